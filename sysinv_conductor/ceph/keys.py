"""Client keys with the least capabilities their user needs.

``client.kube`` (the rbd-provisioner's user) gets ``profile rbd`` on the monitors, which
lets it read the maps, and ``profile rbd`` on its own pool only.
"""

from __future__ import annotations

from sysinv_conductor.ceph.client import ENOENT, CephClient, CephCommandFailed


def rbd_caps(pool: str) -> dict[str, str]:
    return {"mon": "profile rbd", "osd": f"profile rbd pool={pool}"}


def _caps_list(caps: dict[str, str]) -> list[str]:
    return [item for service in sorted(caps) for item in (service, caps[service])]


def ensure_key(ceph: CephClient, entity: str, caps: dict[str, str]) -> str:
    """The key of ``entity`` (``client.kube``), created if missing, with exactly ``caps``
    (an existing entity's capabilities are replaced). Never logged."""
    existing = get_caps(ceph, entity)
    if existing is not None and existing != caps:
        ceph.command("auth caps", entity=entity, caps=_caps_list(caps))
    answer = ceph.command("auth get-or-create", entity=entity, caps=_caps_list(caps))
    return str(answer[0]["key"])


def get_caps(ceph: CephClient, entity: str) -> dict[str, str] | None:
    """``entity``'s capabilities, None when Ceph has no such entity."""
    try:
        answer = ceph.command("auth get", entity=entity)
    except CephCommandFailed as exc:
        if exc.errno == ENOENT:
            return None
        raise
    return {str(k): str(v) for k, v in answer[0].get("caps", {}).items()}


def delete_key(ceph: CephClient, entity: str) -> None:
    """Remove ``entity``; one already gone is fine."""
    try:
        ceph.command("auth del", entity=entity)
    except CephCommandFailed as exc:
        if exc.errno != ENOENT:
            raise
