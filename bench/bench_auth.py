"""What Keystone authentication costs per request, with a token already validated once.

The same API (one in-process app on one SQLite database), the same request (GET one host)
and the same answer, checked before timing: once with ``api.auth=none``, once with
``api.auth=keystone`` in front (keystonemiddleware's auth_token, its token cache warm),
against the real Keystone of the test servers, started here. The difference of the two
medians is the middleware's cost per request.

    python bench/bench_auth.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from sysinv_api.app import create_app
from sysinv_common.conf import AuthMode, Settings
from sysinv_common.db.prepare import prepare_database
from sysinv_common.messaging.app import make_celery
from sysinv_common.states.host import new_host
from tests.servers.keystone import KeystoneServer
from tests.stack import make_settings


def timings(client: TestClient, headers: dict[str, str], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        r = client.get("/v1/ihosts/bench-0", headers=headers)
        out.append(time.perf_counter() - start)
        if r.status_code != 200:  # not an assert: python -O would time failures
            raise SystemExit(f"bench_auth: GET answered {r.status_code}: {r.text}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    keystone = KeystoneServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = make_settings(Path(tmp))
            db = prepare_database(settings)
            celery = make_celery(settings.messaging, name="bench-auth")
            off = TestClient(create_app(settings, db, celery=celery))
            secured = Settings.model_validate(settings.model_dump())
            secured.api.auth = AuthMode.KEYSTONE
            ks = secured.keystone
            ks.auth_url, ks.username = keystone.url, keystone.service.username
            ks.project_name = keystone.service.project_name
            ks.password = keystone.service.password  # type: ignore[assignment]
            secured = Settings.model_validate(secured.model_dump(mode="python"))
            on = TestClient(create_app(secured, db, celery=celery))
            with db.session() as s:
                s.add(new_host(hostname="bench-0", personality="worker"))
            token = {"X-Auth-Token": keystone.token(keystone.admin)}
            # Same work, same answer: checked before timing (and the token cache warmed).
            plain, secured_answer = (off.get("/v1/ihosts/bench-0"),
                                     on.get("/v1/ihosts/bench-0", headers=token))  # fmt: skip
            if not (plain.status_code == secured_answer.status_code == 200
                    and plain.json() == secured_answer.json()):  # fmt: skip
                raise SystemExit("bench_auth: the two apps answer differently: not timing")
            timings(off, {}, 100)
            timings(on, token, 100)
            base = timings(off, {}, args.requests)
            auth = timings(on, token, args.requests)
            db.dispose()
    finally:
        keystone.stop()
    b, a = statistics.median(base) * 1000, statistics.median(auth) * 1000
    print(f"bench_auth: GET one host, {args.requests} requests each side after 100 untimed; "
          f"one in-process app (TestClient) on SQLite, {os.cpu_count()} cores; keystone: "
          "keystonemiddleware auth_token against the test Keystone, token cache warm; "
          "checked: both answer the same")  # fmt: skip
    print(f"auth off:      median {b:.2f} ms per request ({args.requests} requests)")
    print(f"auth keystone: median {a:.2f} ms per request (token cached)")
    print(f"overhead:      {a - b:.2f} ms per request (goal: under 2 ms)")


if __name__ == "__main__":
    main()
