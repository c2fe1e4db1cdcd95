"""``scripts/run --horizon``: the embedded service with Horizon beside it, for people.

Horizon logs users in through Keystone, so this starts the test Keystone (from the test
cache, with its seeded admin and reader), runs ``sysinv aio`` with authentication on
against it (the remaining arguments go to ``sysinv aio``), registers sysinv in its
catalog as the ``platform`` service, and serves Horizon with the plugin on a free
loopback port. It prints the URL and the two logins, and stops everything on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.servers import procs
from tests.servers.horizon import HorizonServer
from tests.servers.keystone import KeystoneServer

BIN = Path(sys.executable).parent


def _openrc(ks: KeystoneServer) -> dict[str, str]:
    admin = ks.admin
    return {
        "OS_AUTH_URL": ks.url, "OS_USERNAME": admin.username, "OS_PASSWORD": admin.password,
        "OS_PROJECT_NAME": admin.project_name, "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default", "OS_REGION_NAME": "RegionOne",
        "OS_INTERFACE": "public",
    }  # fmt: skip


def main(argv: list[str]) -> int:
    known = argparse.ArgumentParser(add_help=False)
    known.add_argument("--port", type=int, default=6385)
    ports, _ = known.parse_known_args(argv)
    sysinv_url = f"http://127.0.0.1:{ports.port}"
    procs.install_cleanup()
    ks = KeystoneServer().start()
    env = {**os.environ, **ks.sysinv_env(), "SYSINV_KEYSTONE__PUBLIC_URL": sysinv_url}
    aio = subprocess.Popen(
        [str(BIN / "sysinv"), "aio", "--keystone-url", ks.url, *argv],
        env=env, start_new_session=True,
    )  # fmt: skip
    horizon: HorizonServer | None = None
    try:
        deadline = time.monotonic() + 60
        while True:
            if aio.poll() is not None:
                return aio.returncode or 1
            try:
                if httpx.get(f"{sysinv_url}/v1/ihosts", timeout=1).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                print("sysinv aio did not start within 60 s", file=sys.stderr)
                return 1
            time.sleep(0.2)
        registered = subprocess.run(
            [str(BIN / "sysinv"), "keystone-register"],
            env={**env, **_openrc(ks)}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if registered.returncode != 0:
            print(registered.stderr, file=sys.stderr)
            return 1
        horizon = HorizonServer(ks.url).start()
        print(
            f"\n>> Horizon: {horizon.url}/  (Platform dashboard; sysinv at {sysinv_url})\n"
            f">> log in as {ks.admin.username} / {ks.admin.password}  (admin: every action)\n"
            f">> or {ks.reader.username} / {ks.reader.password}  (reader: no actions)\n"
            f">> Keystone (throwaway, its data is gone at exit): {ks.url}\n"
            ">> Ctrl-C stops sysinv, Horizon and Keystone\n",
            file=sys.stderr,
            flush=True,
        )
        aio.wait()
        return aio.returncode
    except KeyboardInterrupt:
        return 0
    finally:
        if aio.poll() is None:
            os.killpg(aio.pid, signal.SIGTERM)
            try:
                aio.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(aio.pid, signal.SIGKILL)
        if horizon is not None:
            horizon.stop()
        ks.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
