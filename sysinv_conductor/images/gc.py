"""Garbage collection of the local registry: the blobs no manifest references any more
(deleted images) are removed from its storage.

The registry's own ``garbage-collect`` command does the work, on the registry's storage,
and must not race pushes (a blob uploaded but not yet referenced would be collected). So,
as StarlingX does: the registry is switched to read-only (its ``config_file`` rewritten
with ``storage.maintenance.readonly.enabled`` and the registry restarted with
``restart_command``), collected, then switched back and restarted, even when the
collection failed. Pulls keep working throughout; pushes are refused while it runs.
"""

from __future__ import annotations

import copy
import logging
import stat
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml
from dxf.exceptions import DXFError

import bounded_yaml
from sysinv_common.conf.registry import LocalRegistrySettings
from sysinv_common.errors import Conflict, InvalidInput, Unavailable
from sysinv_common.files import replace_file
from sysinv_conductor.images.registry import Endpoint, describe

LOG = logging.getLogger(__name__)
#: The repository the read-only state is probed on (an upload started and cancelled).
PROBE = "sysinv/gc-probe"
#: One collection at a time in this conductor; the registry refuses pushes meanwhile.
_running = threading.Lock()


@dataclass(frozen=True)
class Collected:
    bytes_before: int
    bytes_after: int


def _write(path: Path, text: str, mode: int) -> None:
    # The same permissions as before: the file holds the registry's HTTP secret.
    replace_file(path, text.encode(), mode)


def _storage_root(config: dict[str, Any]) -> Path | None:
    root = ((config.get("storage") or {}).get("filesystem") or {}).get("rootdirectory")
    return Path(root) if root else None


def storage_bytes(root: Path | None) -> int:
    if root is None or not root.is_dir():
        return 0
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _writable(local: Endpoint) -> bool | None:
    """Whether the registry accepts an upload now (None: it does not answer)."""
    try:
        # Cancelling the upload is a DELETE, which the registry grants with "delete".
        with local.repository(PROBE, ("pull", "push", "delete")) as repo:
            r = repo._request("post", "blobs/uploads/")  # type: ignore[no-untyped-call]
            location = r.headers.get("Location")
            if location:
                repo._base_request("delete", location)  # type: ignore[no-untyped-call]
            return True
    except requests.HTTPError as exc:
        if exc.response is not None and exc.response.status_code == 405:
            return False  # "the operation is unsupported ... in read-only mode"
        return None
    except (requests.ConnectionError, requests.Timeout, DXFError):
        return None


def _restart(reg: LocalRegistrySettings, local: Endpoint, writable: bool) -> None:
    done = subprocess.run(reg.restart_command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise Unavailable(
            f"restarting the registry ({' '.join(reg.restart_command)}) failed with "
            f"{done.returncode}: {(done.stderr or done.stdout).strip()[:300]}"
        )
    deadline = time.monotonic() + 60
    while _writable(local) is not writable:
        if time.monotonic() > deadline:
            state = "writable" if writable else "read-only"
            raise Unavailable(f"the registry at {local.address} did not come back {state}")
        time.sleep(0.2)


def garbage_collect(reg: LocalRegistrySettings, local: Endpoint) -> Collected:
    path = reg.config_file
    if path is None:
        raise InvalidInput(
            "registry garbage collection needs registry.config_file (the registry's "
            "config.yml on the conductor's host)"
        )
    try:
        original = path.read_text()
        mode = stat.S_IMODE(path.stat().st_mode)
        config = bounded_yaml.load(original)
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"registry.config_file {path}: {exc}") from None
    if not isinstance(config, dict):
        raise InvalidInput(f"registry.config_file {path} is not a registry configuration")
    if not _running.acquire(blocking=False):
        raise Conflict("a registry garbage collection is already running")
    try:
        root = _storage_root(config)
        before = storage_bytes(root)
        readonly = copy.deepcopy(config)
        maintenance = readonly.setdefault("storage", {}).setdefault("maintenance", {})
        maintenance["readonly"] = {"enabled": True}
        LOG.info("registry garbage collection: switching %s to read-only", local.address)
        _write(path, bounded_yaml.dump(readonly, sort_keys=False), mode)
        try:
            _restart(reg, local, writable=False)
            done = subprocess.run(
                [str(reg.binary), "garbage-collect", "--delete-untagged", str(path)],
                capture_output=True, text=True, timeout=reg.garbage_collect_timeout,
            )  # fmt: skip
            if done.returncode != 0:
                raise InvalidInput(
                    f"the registry's garbage-collect failed with {done.returncode}: "
                    f"{(done.stderr or done.stdout).strip()[-500:]}"
                )
        except subprocess.TimeoutExpired:
            raise Unavailable(
                f"the registry's garbage-collect ran over {reg.garbage_collect_timeout:.0f} s"
            ) from None
        finally:
            _write(path, original, mode)
            _restart(reg, local, writable=True)
            LOG.info("registry garbage collection: %s writable again", local.address)
        after = storage_bytes(root)
    except requests.RequestException as exc:
        raise Unavailable(f"the registry at {local.address}: {describe(exc)}") from None
    finally:
        _running.release()
    LOG.info("registry garbage collection freed %d bytes (%d -> %d)", before - after, before, after)
    return Collected(before, after)
