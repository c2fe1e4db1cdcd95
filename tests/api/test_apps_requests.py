"""``/v1/apps`` request handling in the API: validation, refusals, the import store."""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sysinv_common.apps import bundle_store
from sysinv_common.conf.apps import STARLINGX_APPS_DIR
from sysinv_common.db.models import App
from sysinv_common.messaging.rpcapi import ConductorAPI
from tests.api.test_hosts import fault
from tests.stack import Stack, wait_done
from tests.unit.test_bounded_yaml import laughs


def bundle_bytes(metadata: str | None = "app_name: hello-app\napp_version: 1.0-1\n") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        if metadata is not None:
            data = metadata.encode()
            info = tarfile.TarInfo("metadata.yaml")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def upload_body(data: bytes, **extra: object) -> dict[str, object]:
    return {
        "tarfile": "/client/side/./hello-app-1.0-1.tgz",
        "binary_data": base64.urlsafe_b64encode(data).decode(),
        **extra,
    }


def test_empty_list_and_unknown_app(api: Stack) -> None:
    assert api.client.get("/v1/apps").json() == {"apps": []}
    r = api.client.get("/v1/apps/nope")
    assert r.status_code == 404
    assert "Application nope not found" in fault(r)
    for method, url in (
        ("PATCH", "/v1/apps/nope?directive=remove&force=False"),
        ("DELETE", "/v1/apps/nope?force=False"),
        ("PATCH", "/v1/apps/nope?directive=abort"),
    ):
        r = api.client.request(method, url, json={"values": {}})
        assert r.status_code == 400, (method, url)
        assert "application nope not found" in fault(r)


def test_apply_of_an_unknown_app_says_not_found_even_without_a_cluster(api: Stack) -> None:
    # The stack has no kubeconfig: the missing app is what the operator needs to hear.
    assert not api.settings.kubernetes.kubeconfig
    r = api.client.patch("/v1/apps/nosuch?directive=apply", json={"values": {}})
    assert r.status_code == 400, r.text
    assert fault(r) == "Application-apply rejected: application nosuch not found."


@pytest.mark.parametrize("url", ["/v1/apps/hello-app", "/v1/apps/hello-app?directive="])
def test_a_missing_directive_is_a_400_naming_it(api: Stack, url: str) -> None:
    api.client.post("/v1/apps", json=upload_body(bundle_bytes()))
    r = api.client.patch(url, json={})
    assert r.status_code == 400, r.text
    assert "directive missing" in fault(r)
    assert "None" not in fault(r)


def test_upload_records_uploading_and_stores_bundle(api: Stack) -> None:
    data = bundle_bytes()
    r = api.client.post("/v1/apps", json=upload_body(data, images=True))
    assert r.status_code == 200, r.text
    app = r.json()
    assert (app["name"], app["app_version"], app["status"]) == ("hello-app", "1.0-1", "uploading")
    # The bytes are in the database, for any conductor to fetch; nothing on the API's disk.
    digest = hashlib.sha256(data).hexdigest()
    with api.db.session() as s:
        fetched = bundle_store.fetch(s, digest, api.settings.state_dir / "fetched.tgz")
    assert fetched.read_bytes() == data
    assert fetched.stat().st_mode & 0o777 == 0o600
    assert not (api.settings.state_dir / "import").exists()
    listed = api.client.get("/v1/apps").json()["apps"]
    assert [a["name"] for a in listed] == ["hello-app"]
    assert {"name", "app_version", "manifest_name", "manifest_file", "status", "progress"} <= set(
        listed[0]
    )
    r = api.client.post("/v1/apps", json=upload_body(data))
    assert r.status_code == 400
    assert "application hello-app already exists" in fault(r)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"tarfile": "x.tgz", "binary_data": "***"}, "not valid URL-safe base64"),
        (upload_body(b"not a tarball"), "not a readable tar.gz"),
        (upload_body(bundle_bytes(None)), "no metadata.yaml"),
        (upload_body(bundle_bytes("app_name: [x\n")), "not valid YAML"),
        (upload_body(bundle_bytes("app_version: '1'\n")), "app_name is required"),
        (
            upload_body(bundle_bytes("app_name: bad/name\napp_version: '1'\n")),
            "app_name 'bad/name' is not valid",
        ),
        # A YAML float is not the version the author meant (1.10 reads as 1.1): refused at
        # upload with the fix, by the same parser the conductor uses.
        (
            upload_body(bundle_bytes("app_name: x\napp_version: 1.10\n")),
            'quote it: app_version: "1.1"',
        ),
        (upload_body(bundle_bytes(), name="other"), "does not match"),
        # Read by the API itself: bounded like every YAML from users, and never a 500.
        (
            upload_body(bundle_bytes("app_name: x\napp_version: '1'\n" + laughs(8))),
            "metadata.yaml: YAML aliases expand to more than 10000 nodes",
        ),
        (
            upload_body(bundle_bytes("app_name: x\napp_version: '1'\nbehavior: " + "{a: " * 9999)),
            "metadata.yaml: YAML is nested more than 64 levels deep",
        ),
        (
            upload_body(bundle_bytes("app_name: x\napp_version: '1'\nhelm_repo: " + "9" * 5000)),
            "metadata.yaml: YAML integer has more than 1000 digits",
        ),
        ({"tarfile": "/etc/passwd"}, "not readable by the server"),
        ({}, "send binary_data or a tarfile"),
        ([], "Expected a JSON object"),
    ],
)
def test_upload_refusals(api: Stack, body: object, why: str) -> None:
    r = api.client.post("/v1/apps", json=body)
    assert r.status_code == 400, r.text
    assert why in fault(r)
    assert api.client.get("/v1/apps").json() == {"apps": []}
    assert api.stored_bundles() == []


def test_manifest_alias_bomb_fails_the_upload_at_once(api: Stack) -> None:
    manifest = (
        "schema: armada/Manifest/v1\nmetadata: {schema: metadata/Document/v1, name: m}\n"
        "data: {release_prefix: x, chart_groups: []}\n" + laughs(8)
    )
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in (("metadata.yaml", "app_name: bomb\napp_version: '1'\n"),
                           ("charts/c-0.1.0.tgz", "not linted before the manifest"),
                           ("manifest.yaml", manifest)):  # fmt: skip
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    started = time.monotonic()
    r = api.client.post("/v1/apps", json=upload_body(buf.getvalue()))
    assert r.status_code == 200, r.text
    app = wait_done(api, "bomb", timeout=30)
    assert app["status"] == "upload-failed"
    assert "manifest.yaml: YAML aliases expand to more than 10000 nodes" in app["progress"]
    assert time.monotonic() - started < 10


def test_tarfile_path_must_lie_under_import_dir(api: Stack, tmp_path: Path) -> None:
    inside = tmp_path / "imports"
    inside.mkdir()
    (inside / "hello.tgz").write_bytes(bundle_bytes())
    api.settings.apps.import_dir = [str(inside)]
    try:
        r = api.client.post("/v1/apps", json={"tarfile": str(inside / ".." / "elsewhere.tgz")})
        assert r.status_code == 400
        assert "outside the import directories" in fault(r)
        r = api.client.post("/v1/apps", json={"tarfile": str(inside / "hello.tgz")})
        assert r.status_code == 200, r.text
    finally:
        api.settings.apps.import_dir = [STARLINGX_APPS_DIR]


def test_tarfile_alone_is_read_from_the_default_import_dir(api: Stack) -> None:
    """What StarlingX's client sends from a controller: the path only (application-update
    never sends binary_data). ``<state_dir>/import`` is an import directory by default."""
    import_dir = api.settings.state_dir / "import"
    assert api.settings.import_dirs == [import_dir, Path(STARLINGX_APPS_DIR)]
    elsewhere = api.settings.state_dir / "hello-app-1.0-1.tgz"
    elsewhere.write_bytes(bundle_bytes())
    for path in (str(elsewhere), "hello-app-1.0-1.tgz"):
        for url in ("/v1/apps", "/v1/apps/update"):
            r = api.client.post(url, json={"tarfile": path})
            assert r.status_code == 400, r.text
            message = fault(r)
            assert message.startswith(f"Tarfile {path} is not readable by the server")
            # What to do instead, in so many words.
            assert f"copy it under {import_dir} on the sysinv-api host" in message
            assert "send the tarball's bytes as binary_data" in message
    import_dir.mkdir()
    try:
        missing = import_dir / "missing.tgz"
        r = api.client.post("/v1/apps/update", json={"tarfile": str(missing)})
        assert r.status_code == 400
        assert "no such file on the sysinv-api host" in fault(r)
        inside = import_dir / "hello-app-1.0-1.tgz"
        elsewhere.rename(inside)
        # application-update with only the path: read, then refused for the app's state.
        r = api.client.post("/v1/apps/update", json={"tarfile": str(inside)})
        assert r.status_code == 400
        assert "application hello-app not found" in fault(r)
        r = api.client.post("/v1/apps", json={"tarfile": str(inside)})
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "hello-app"
    finally:
        shutil.rmtree(import_dir)


def test_directives_refused_in_the_wrong_state(api: Stack) -> None:
    api.client.post("/v1/apps", json=upload_body(bundle_bytes()))
    r = api.client.patch("/v1/apps/hello-app?directive=explode", json={"values": {}})
    assert r.status_code == 403
    assert "Unknown directive" in fault(r)
    r = api.client.patch(
        "/v1/apps/hello-app?directive=apply", json={"values": {"client_side": False}}
    )
    assert r.status_code == 400
    assert "no Kubernetes cluster configured" in fault(r)
    r = api.client.patch("/v1/apps/hello-app?directive=remove&force=False", json={"values": {}})
    assert r.status_code == 400
    assert "Application-remove rejected" in fault(r)
    # The conductor finds the bundle has no manifest or charts and says so.
    deadline = time.monotonic() + 30
    while (app := api.client.get("/v1/apps/hello-app").json())["status"] == "uploading":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert app["status"] == "upload-failed"
    assert app["progress"]
    assert api.client.delete("/v1/apps/hello-app?force=False").status_code == 204
    assert api.client.get("/v1/apps/hello-app").status_code == 404
    assert api.stored_bundles() == []


class BundleServer:
    """A loopback HTTP server: /hello.tgz (a bundle), /chain/<n> (n same-host redirects
    before the bundle), /to?<url> (a redirect to url), /slow (a byte every 0.1 s)."""

    def __init__(self, bundle: bytes) -> None:
        import http.server
        import threading

        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _redirect(self, to: str) -> None:
                self.send_response(302)
                self.send_header("Location", to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                outer.requests.append(self.path)
                path, _, query = self.path.partition("?")
                if path == "/hello.tgz":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(bundle)))
                    self.end_headers()
                    self.wfile.write(bundle)
                elif path.startswith("/chain/"):
                    left = int(path.rsplit("/", 1)[1])
                    self._redirect(f"/chain/{left - 1}" if left > 1 else "/hello.tgz")
                elif path == "/to":
                    self._redirect(query)
                elif path == "/slow":
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    try:
                        for _ in range(600):
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(0.1)
                    except OSError:
                        pass
                else:
                    self.send_error(404)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bundle_server(api: Stack) -> Iterator[BundleServer]:
    server = BundleServer(bundle_bytes())
    apps = api.settings.apps
    keys = ("url_allowed_hosts", "max_bundle_bytes", "url_fetch_timeout")
    saved = {key: getattr(apps, key) for key in keys if hasattr(apps, key)}
    try:
        yield server
    finally:
        for key, value in saved.items():
            setattr(apps, key, value)
        server.close()


def test_url_uploads_are_refused_unless_hosts_are_allowed(
    api: Stack, bundle_server: BundleServer
) -> None:
    assert getattr(api.settings.apps, "url_allowed_hosts", []) == []
    r = api.client.post("/v1/apps", json={"tarfile": f"{bundle_server.base}/hello.tgz"})
    assert r.status_code == 400
    assert fault(r) == bundle_store.URL_UPLOADS_OFF
    assert "apps.url_allowed_hosts" in fault(r)
    assert bundle_server.requests == []
    assert api.client.get("/v1/apps").json() == {"apps": []}


def test_upload_from_url_with_size_cap(api: Stack, bundle_server: BundleServer) -> None:
    base = bundle_server.base
    api.settings.apps.url_allowed_hosts = [f"127.0.0.1:{bundle_server.port}"]
    r = api.client.post("/v1/apps", json={"tarfile": f"{base}/missing.tgz"})
    assert r.status_code == 400 and "HTTP 404" in fault(r)
    api.settings.apps.max_bundle_bytes = 10
    r = api.client.post("/v1/apps", json={"tarfile": f"{base}/hello.tgz"})
    assert r.status_code == 400 and "larger than the limit of 10 bytes" in fault(r)
    api.settings.apps.max_bundle_bytes = 512 * 1024 * 1024
    r = api.client.post("/v1/apps", json={"tarfile": f"{base}/hello.tgz"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "hello-app"


@pytest.mark.parametrize(
    ("allowed", "ok"),
    [
        (["127.0.0.1:{port}"], True),
        (["127.0.0.1:*"], True),
        (["127.0.0.*:{port}"], True),
        (["127.0.0.1"], False),  # a host alone allows its default ports only
        (["127.0.0.1:1"], False),
        (["localhost:*", "10.0.0.1:*"], False),
    ],
)
def test_url_host_patterns(
    api: Stack, bundle_server: BundleServer, allowed: list[str], ok: bool
) -> None:
    port = bundle_server.port
    api.settings.apps.url_allowed_hosts = [p.format(port=port) for p in allowed]
    r = api.client.post("/v1/apps", json={"tarfile": f"{bundle_server.base}/hello.tgz"})
    if ok:
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 400
        assert f"127.0.0.1:{port} is not an allowed host for bundle URLs" in fault(r)
        assert bundle_server.requests == []


def test_url_redirects_stay_on_the_host_and_are_few(
    api: Stack, bundle_server: BundleServer
) -> None:
    base, port = bundle_server.base, bundle_server.port
    # Both names are this machine; only redirects within the first are followed.
    api.settings.apps.url_allowed_hosts = ["127.0.0.1:*", "localhost:*"]
    refusals = {
        f"{base}/to?http://localhost:{port}/hello.tgz": "redirects to another host",
        # The service itself, as a redirect target: never fetched.
        f"{base}/to?http://testserver/openapi.json": "redirects to another host",
        f"{base}/to?ftp://127.0.0.1/hello.tgz": "only https and http URLs are fetched",
        f"{base}/to?http://127.0.0.1:1/hello.tgz": "Fetching",
        f"{base}/chain/4": "more than 3 redirects",
    }
    for url, why in refusals.items():
        bundle_server.requests.clear()
        r = api.client.post("/v1/apps", json={"tarfile": url})
        assert r.status_code == 400, (url, r.text)
        assert why in fault(r), (url, fault(r))
        assert "/hello.tgz" not in bundle_server.requests
    api.settings.apps.url_allowed_hosts = [f"127.0.0.1:{port}"]
    r = api.client.post("/v1/apps", json={"tarfile": f"{base}/to?http://127.0.0.1:1/x"})
    assert "127.0.0.1:1 is not an allowed host" in fault(r)
    r = api.client.post("/v1/apps", json={"tarfile": f"{base}/chain/3"})
    assert r.status_code == 200, r.text
    assert bundle_server.requests[-4:] == ["/chain/3", "/chain/2", "/chain/1", "/hello.tgz"]


def test_url_fetch_is_bounded_in_time(api: Stack, bundle_server: BundleServer) -> None:
    api.settings.apps.url_allowed_hosts = ["127.0.0.1:*"]
    api.settings.apps.url_fetch_timeout = 1
    started = time.monotonic()
    r = api.client.post("/v1/apps", json={"tarfile": f"{bundle_server.base}/slow"})
    assert r.status_code == 400
    assert "not done within 1 s (apps.url_fetch_timeout)" in fault(r)
    assert time.monotonic() - started < 4


def test_url_credentials_are_not_echoed(api: Stack, bundle_server: BundleServer) -> None:
    api.settings.apps.url_allowed_hosts = ["127.0.0.1:*"]
    url = f"http://user:s3cret@127.0.0.1:{bundle_server.port}/missing.tgz"
    r = api.client.post("/v1/apps", json={"tarfile": url})
    assert r.status_code == 400 and "HTTP 404" in fault(r)
    assert "s3cret" not in fault(r)


def applied_app(api: Stack, version: str = "0.9-1") -> None:
    """An applied hello-app (test setup: no cluster here to apply one on)."""
    with api.db.session() as s:
        s.add(App(name="hello-app", app_version=version, status="applied", active=True))


@pytest.mark.parametrize(
    ("flags", "stored"),
    [
        ({"reuse_user_overrides": "true", "reuse_attributes": "false"}, (True, False)),
        ({"reuse_attributes": "True"}, (None, True)),
        ({}, (None, None)),
    ],
)
def test_update_records_the_reuse_flags_as_the_client_sends_them(
    api: Stack, monkeypatch: pytest.MonkeyPatch, flags: dict[str, str], stored: tuple[Any, Any]
) -> None:
    """`application-update PATH --reuse-user-overrides X --reuse-attributes Y` sends the
    path and the flags as typed; the job finds them on the app (None: metadata decides)."""
    applied_app(api)
    import_dir = api.settings.state_dir / "import"
    import_dir.mkdir()
    queued: list[str] = []
    # Keep the job on the queue: with no cluster here it would fail and clear the target.
    monkeypatch.setattr(ConductorAPI, "app_job", lambda _self, method, *_: queued.append(method))
    try:
        path = import_dir / "hello-app-1.0-1.tgz"
        path.write_bytes(bundle_bytes())
        r = api.client.post("/v1/apps/update", json={"tarfile": str(path), **flags})
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["app_version"]) == ("updating", "0.9-1")
        assert [m.name for m in queued] == ["app_update"]  # type: ignore[attr-defined]
        with api.db.session() as s:
            row = s.scalars(select(App).where(App.name == "hello-app")).one()
            assert row.target_version == "1.0-1"
            assert (row.target_reuse_user_overrides, row.target_reuse_attributes) == stored
    finally:
        shutil.rmtree(import_dir)


@pytest.mark.parametrize("key", ["reuse_user_overrides", "reuse_attributes"])
def test_update_refuses_a_reuse_flag_that_is_not_true_or_false(api: Stack, key: str) -> None:
    applied_app(api)
    r = api.client.post("/v1/apps/update", json={**upload_body(bundle_bytes()), key: "maybe"})
    assert r.status_code == 400
    assert fault(r) == (
        f"Application-update rejected: invalid {key} setting 'maybe' (true or false)"
    )
    assert api.client.get("/v1/apps/hello-app").json()["status"] == "applied"


def _expanding_bundle(zeros: int, metadata_first: bool) -> bytes:
    """A small tar.gz whose member of ``zeros`` zero bytes expands a thousandfold."""
    meta = b"app_name: hello-app\napp_version: 1.0-1\n"
    members = [("metadata.yaml", meta), ("images/zeros.tar", bytes(zeros))]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members if metadata_first else reversed(members):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_a_bundle_expanding_past_its_disk_quota_is_refused(api: Stack) -> None:
    apps = api.settings.apps
    apps.max_extracted_bytes, apps.max_bundle_members = 1024 * 1024, 10
    try:
        data = _expanding_bundle(8 * 1024 * 1024, metadata_first=False)
        assert len(data) < 64 * 1024
        # The API reads up to metadata.yaml, and no further than the quota allows.
        r = api.client.post("/v1/apps", json=upload_body(data))
        assert r.status_code == 400, r.text
        assert "more data than its size limits allow" in fault(r)
        # metadata.yaml first: the API accepts it, the conductor refuses to expand the rest.
        r = api.client.post("/v1/apps", json=upload_body(_expanding_bundle(8 << 20, True)))
        assert r.status_code == 200, r.text
        app = wait_done(api, "hello-app")
        assert app["status"] == "upload-failed", app
        assert "over the limit of 1048576 bytes" in app["progress"], app
        left = (
            list(api.settings.apps_dir.rglob("zeros.tar")) if api.settings.apps_dir.exists() else []
        )
        assert left == []
    finally:
        apps.max_extracted_bytes, apps.max_bundle_members = 2 * 1024**3, 10_000
