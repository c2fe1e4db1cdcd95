"""Hosts over the v1 API: the wire shape and the lifecycle rules of states/host.py."""

from __future__ import annotations

import json

import pytest

from tests.stack import Stack

# sysinv's host object: every key StarlingX's host-list and host-show read.
HOST_KEYS = {
    "id", "uuid", "hostname", "personality", "subfunctions", "subfunction_oper",
    "subfunction_avail", "administrative", "operational", "availability", "invprovision",
    "task", "action", "vim_progress_status", "inv_state", "mgmt_mac", "mgmt_ip", "serialid",
    "bm_ip", "bm_type", "bm_username", "capabilities", "location", "config_applied",
    "config_target", "config_status", "uptime", "reserved", "reboot_needed", "ttys_dcd",
    "created_at", "updated_at", "boot_device", "rootfs_device", "hw_settle", "install_output",
    "console", "tboot", "install_state", "install_state_info", "peers",
    "clock_synchronization", "device_image_update", "apparmor", "sw_version",
    "max_cpu_mhz_configured", "min_cpu_mhz_allowed", "max_cpu_mhz_allowed",
    "cstates_available", "iscsi_initiator_name", "nvme_host_id", "nvme_host_nqn",
    "vsc_controllers", "kube_node",
}  # fmt: skip


def fault(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error_message"}, body
    decoded = json.loads(body["error_message"])
    assert decoded["debuginfo"] is None
    return str(decoded["faultstring"])


def patch(api: Stack, ident: object, **changes: object) -> object:
    ops = [{"op": "replace", "path": f"/{k}", "value": v} for k, v in changes.items()]
    return api.client.patch(f"/v1/ihosts/{ident}", json=ops)


def test_add_starts_locked_disabled_offline_with_every_key(api: Stack) -> None:
    host = api.add_host(
        "worker-0", "worker", mgmt_mac="08:00:27:AA:BB:01", location={"locn": "rack 1"}
    )
    assert set(host) >= HOST_KEYS
    assert (host["administrative"], host["operational"], host["availability"]) == (
        "locked",
        "disabled",
        "offline",
    )
    assert host["mgmt_mac"] == "08:00:27:aa:bb:01"
    assert host["location"] == {"locn": "rack 1"}
    assert host["created_at"].endswith("+00:00")
    listed = api.client.get("/v1/ihosts").json()["ihosts"]
    assert [h["hostname"] for h in listed] == ["worker-0"]
    assert set(listed[0]) >= HOST_KEYS


def test_show_by_id_uuid_and_name(api: Stack) -> None:
    host = api.add_host("worker-1")
    for ident in (host["id"], host["uuid"], "worker-1"):
        r = api.client.get(f"/v1/ihosts/{ident}")
        assert r.status_code == 200
        assert r.json()["uuid"] == host["uuid"]
    r = api.client.get("/v1/ihosts/999999")
    assert r.status_code == 404
    assert "Host not found" in fault(r)


def test_all_in_one_controller_has_worker_subfunction(api: Stack) -> None:
    host = api.add_host("controller-0", "controller")
    assert host["subfunctions"] == "controller,worker"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"hostname": "Worker_0", "personality": "worker"}, "Invalid hostname"),
        ({"hostname": "-w", "personality": "worker"}, "Invalid hostname"),
        ({"hostname": "w" * 64, "personality": "worker"}, "longer than 63"),
        ({"personality": "worker"}, "Hostname is required"),
        ({"hostname": "w1", "personality": "router"}, "Invalid personality 'router'"),
        ({"hostname": "w1", "mgmt_mac": "08:00:27:zz:00:01"}, "Invalid MAC address"),
        ({"hostname": "w1", "mgmt_mac": "01:00:27:00:00:01"}, "not a unicast"),
        ({"hostname": "w1", "colour": "red"}, "Unknown host attribute(s): colour"),
    ],
)
def test_add_refuses_bad_input(api: Stack, body: dict[str, object], message: str) -> None:
    r = api.client.post("/v1/ihosts", json=body)
    assert r.status_code == 400
    assert message in fault(r)
    assert api.client.get("/v1/ihosts").json()["ihosts"] == []


def test_duplicate_hostname_and_mac_refused(api: Stack) -> None:
    api.add_host("worker-0", mgmt_mac="08:00:27:00:00:01")
    r = api.client.post("/v1/ihosts", json={"hostname": "worker-0", "personality": "worker"})
    assert r.status_code == 400
    assert "already exists" in fault(r)
    r = api.client.post(
        "/v1/ihosts", json={"hostname": "worker-9", "mgmt_mac": "08-00-27-00-00-01"}
    )
    assert r.status_code == 400
    assert "mgmt_mac 08:00:27:00:00:01 already exists" in fault(r)


def test_lock_unlock_cycle_and_refusals(api: Stack) -> None:
    host = api.add_host("worker-0")
    r = api.action(host, "lock")
    assert r.status_code == 400
    assert fault(r) == "Avoiding lock action on already 'locked' host worker-0"
    r = api.action(host, "unlock")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["administrative"] == "unlocked"
    assert "vsc_controllers" in body and "ttys_dcd" in body
    assert body["kube_node"].startswith("skipped")
    r = api.action(host, "unlock")
    assert r.status_code == 400
    assert fault(r) == "Avoiding unlock action on already 'unlocked' host worker-0"
    assert api.action(host, "force-lock").status_code == 200
    assert api.action(host, "force-unlock").status_code == 200
    r = api.action(host, "force-unsafe-lock")
    assert r.status_code == 400
    assert "not supported" in fault(r)
    # --force: what both clients spell alike (in sysinv's own CLI, -f is --format).
    assert fault(r).endswith("use host-lock --force")
    r = api.action(host, "reboot")
    assert r.status_code == 400
    assert "Host action 'reboot' (host-reboot) is not supported" in fault(r)
    r = api.action(host, "explode")
    assert r.status_code == 400
    assert fault(r) == (
        "Invalid host action 'explode': must be one of lock, force-lock, unlock, force-unlock, "
        "swact"
    )


def test_unlock_needs_personality(api: Stack) -> None:
    host = api.add_host("node-x", personality=None)
    assert host["personality"] is None
    r = api.action(host, "unlock")
    assert r.status_code == 400
    assert "no personality" in fault(r)


def test_plain_lock_keeps_last_controller_of_duplex_unlocked(api: Stack) -> None:
    with api.db.session() as s:
        from sysinv_common.db.queries.system import get_system

        get_system(s).system_mode = "duplex"
    try:
        c0 = api.add_host("controller-0", "controller")
        assert api.action(c0, "unlock").status_code == 200
        r = api.action(c0, "lock")
        assert r.status_code == 400
        assert "only unlocked and enabled controller" in fault(r)
        assert api.client.get(f"/v1/ihosts/{c0['id']}").json()["administrative"] == "unlocked"
        assert api.action(c0, "force-lock").status_code == 200
    finally:
        with api.db.session() as s:
            from sysinv_common.db.queries.system import get_system

            get_system(s).system_mode = "simplex"


def test_update_fields_only_while_locked(api: Stack) -> None:
    host = api.add_host("worker-0")
    r = patch(api, host["id"], hostname="worker-5", location={"locn": "rack 2"})
    assert r.status_code == 200, r.text
    assert r.json()["hostname"] == "worker-5"
    assert r.json()["location"] == {"locn": "rack 2"}
    assert api.action(host, "unlock").status_code == 200
    for field, value in (("hostname", "worker-6"), ("personality", "storage")):
        r = patch(api, host["id"], **{field: value})
        assert r.status_code == 400
        assert f"Cannot change the {field} of host worker-5 while it is unlocked" in fault(r)
    # Location is not locked-only.
    assert patch(api, host["id"], location="rack 3").json()["location"] == {"locn": "rack 3"}
    shown = api.client.get(f"/v1/ihosts/{host['uuid']}").json()
    assert (shown["hostname"], shown["personality"]) == ("worker-5", "worker")


def test_update_refusals(api: Stack) -> None:
    host = api.add_host("worker-0")
    api.add_host("worker-1", mgmt_mac="08:00:27:00:00:02")
    cases = [
        ([{"op": "replace", "path": "/hostname", "value": "worker-1"}], "already exists"),
        ([{"op": "replace", "path": "/mgmt_mac", "value": "08:00:27:00:00:02"}], "already exists"),
        ([{"op": "replace", "path": "/uuid", "value": "x"}], "Attribute 'uuid' cannot be changed"),
        ([{"op": "move", "path": "/hostname"}], "Unsupported patch operation"),
        ({"hostname": "x"}, "Expected a JSON-Patch list"),
        (
            [
                {"op": "replace", "path": "/action", "value": "unlock"},
                {"op": "replace", "path": "/hostname", "value": "w9"},
            ],
            "cannot be combined",
        ),
    ]
    for body, message in cases:
        r = api.client.patch(f"/v1/ihosts/{host['id']}", json=body)
        assert r.status_code == 400, (body, r.text)
        assert message in fault(r)
    assert api.client.get(f"/v1/ihosts/{host['id']}").json()["hostname"] == "worker-0"


def test_delete_only_when_locked(api: Stack) -> None:
    host = api.add_host("worker-0")
    api.client.post(f"/v1/labels/{host['uuid']}", json={"a": "b"})
    assert api.action(host, "unlock").status_code == 200
    r = api.client.delete(f"/v1/ihosts/{host['id']}")
    assert r.status_code == 400
    assert "unlocked" in fault(r)
    assert api.action(host, "lock").status_code == 200
    assert api.client.delete(f"/v1/ihosts/{host['id']}").status_code == 204
    assert api.client.get(f"/v1/ihosts/{host['id']}").status_code == 404
    assert api.client.delete(f"/v1/ihosts/{host['id']}").status_code == 404
