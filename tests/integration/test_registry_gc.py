"""``registry-garbage-collect`` against a real registry run as a service would be (a loop
that starts it again when it exits, as systemd does): a deleted image's blobs leave the
storage, the registry refuses pushes while the collection runs and takes them again after,
and the images still tagged are untouched."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.registry_tools import pullable, push, token
from tests.servers import procs
from tests.servers.registry import LocalRegistry
from tests.stack import Stack, make_settings, running_stack


@pytest.fixture(scope="module")
def registry() -> Iterator[LocalRegistry]:
    procs.install_cleanup()
    local = LocalRegistry(supervised=True).start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def stack(registry: LocalRegistry, tmp_path: Path) -> Iterator[Stack]:
    settings = make_settings(tmp_path / "state")
    reg = settings.registry
    reg.address, reg.insecure = registry.address, True
    reg.service, reg.issuer = registry.SERVICE, registry.ISSUER
    reg.signing_key_file = registry.signing_key_file
    reg.certificate_file = registry.certificate_file
    reg.config_file = registry.server.config_file
    reg.restart_command = registry.server.restart_command
    with running_stack(settings) as s:
        yield s


def upload_statuses(local: LocalRegistry, stop: threading.Event, seen: list[int]) -> None:
    """Start (and cancel) a blob upload every 20 ms until ``stop``: 202 writable, 405
    read-only; a refused connection (the registry restarting) is recorded as 0."""
    repo = "probe/writes"
    headers = {"Authorization": f"Bearer {token(local, repo, 'pull', 'push', 'delete')}"}
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            try:
                r = client.post(f"{local.url}/v2/{repo}/blobs/uploads/", headers=headers)
                seen.append(r.status_code)
                if r.status_code == 202:
                    client.delete(urljoin(local.url, r.headers["location"]), headers=headers)
            except httpx.TransportError:
                seen.append(0)
            time.sleep(0.02)


def test_garbage_collect_frees_deleted_blobs_read_only_meanwhile(
    stack: Stack, registry: LocalRegistry, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    keep, drop = f"gc{run}/keep", f"gc{run}/drop"
    push(registry, tmp_path, keep, "1", size=1_000_000)
    push(registry, tmp_path, drop, "1", size=3_000_000)
    r = stack.client.delete("/v1/registry_image", params={"image_name_and_tag": f"{drop}:1"})
    assert r.status_code == 204, r.text
    before = registry.server.storage_bytes()

    stop, seen = threading.Event(), list[int]()
    watcher = threading.Thread(target=upload_statuses, args=(registry, stop, seen))
    watcher.start()
    try:
        time.sleep(0.2)
        r = stack.client.post("/v1/registry_image", params={"garbage_collect": "True"})
        time.sleep(0.2)
    finally:
        stop.set()
        watcher.join()
    assert r.status_code == 200, r.text
    answer = r.json()
    after = registry.server.storage_bytes()
    # The dropped image's layer (3 MB of incompressible data, gzipped) left the disk.
    assert before - after > 2_500_000, (before, after)
    assert answer["bytes_before"] - answer["bytes_after"] > 2_500_000, answer
    # Writable, then read-only (405) while collecting, then writable again.
    assert seen[0] == 202 and seen[-1] == 202, seen
    assert 405 in seen, seen
    first_ro, last_ro = seen.index(405), len(seen) - 1 - seen[::-1].index(405)
    assert all(s in (405, 0) for s in seen[first_ro : last_ro + 1]), seen
    # The kept image is whole; the config file is back as it was.
    assert pullable(registry, keep, "1")
    assert "readonly" not in registry.server.config_file.read_text()
    push(registry, tmp_path, keep, "2", size=10)


def test_garbage_collect_needs_the_registry_config(stack: Stack, registry: LocalRegistry) -> None:
    stack.settings.registry.config_file = None
    r = stack.client.post("/v1/registry_image", params={"garbage_collect": "True"})
    assert r.status_code == 400 and "registry.config_file" in r.text, r.text
    r = stack.client.post("/v1/registry_image")
    assert r.status_code == 400 and "garbage_collect=True" in r.text, r.text
