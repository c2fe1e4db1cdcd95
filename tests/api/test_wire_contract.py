"""Replays, in order, the requests StarlingX's client makes for each command served here.

Each request carries the headers StarlingX's client sends (a JSON content type
even on GET and DELETE, no Content-Length without a body), and each answer is checked
for the status and the keys the client reads.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from sysinv_common.db.queries.system import get_system
from tests.api.test_hosts import fault
from tests.stack import Stack

CLIENT_HEADERS = {
    "content-type": "application/json",
    "accept": "application/json",
    "x-auth-token": "anything",
    "user-agent": "Python-httplib2/0.32.1 (gzip)",
    "accept-encoding": "gzip, deflate",
}
LIST_COLUMNS = {"id", "hostname", "personality", "administrative", "operational", "availability"}
SHOW_REQUIRED = {"subfunctions", "personality", "peers", "install_state", "install_state_info"}


def send(api: Stack, method: str, path: str, body: Any = None) -> Any:
    content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
    r = api.client.request(method, path, content=content, headers=CLIENT_HEADERS)
    if r.status_code not in (204, 205):
        assert r.headers["content-type"].startswith("application/json"), (method, path)
    return r


def test_host_commands_in_order(api: Stack) -> None:
    # host-add: POST, then GET by the returned uuid.
    r = send(api, "POST", "/v1/ihosts", {"hostname": "worker-0", "personality": "worker"})
    assert r.status_code in (200, 201)
    uuid = r.json()["uuid"]
    r = send(api, "GET", f"/v1/ihosts/{uuid}")
    assert r.status_code == 200
    host = r.json()
    assert set(host) >= SHOW_REQUIRED and "hostname" in host

    # host-list, host-show by name (client-side match), by id.
    r = send(api, "GET", "/v1/ihosts")
    items = r.json()["ihosts"]
    assert isinstance(items, list) and all(set(i) >= LIST_COLUMNS for i in items)
    assert all(isinstance(i["id"], int) for i in items)
    r = send(api, "GET", f"/v1/ihosts/{host['id']}")
    assert r.status_code == 200 and r.json()["uuid"] == uuid

    # host-label-assign: lookup, POST with overwrite, then GET each returned uuid.
    r = send(api, "POST", f"/v1/labels/{uuid}?overwrite=True", {"k1": "v1", "k2": "v2"})
    assert r.status_code == 200
    labels = r.json()["labels"]
    assert isinstance(labels, list) and all(lb["uuid"] for lb in labels)
    for lb in labels:
        r = send(api, "GET", f"/v1/labels/{lb['uuid']}")
        assert r.status_code == 200
        assert list(r.json()) == ["uuid", "host_uuid", "label_key", "label_value"]

    # host-label-list and host-label-remove: list, then DELETE the matching uuid.
    r = send(api, "GET", f"/v1/ihosts/{uuid}/labels")
    listed = r.json()["labels"]
    assert all({"uuid", "host_uuid", "label_key", "label_value"} <= set(i) for i in listed)
    (k1,) = [i for i in listed if i["host_uuid"] == uuid and i["label_key"] == "k1"]
    r = send(api, "DELETE", f"/v1/labels/{k1['uuid']}")
    assert 200 <= r.status_code < 300

    # host-unlock / host-lock: PATCH by numeric id with a JSON-Patch list. The answer holds
    # vsc_controllers and ttys_dcd, so the client needs no lazy reload; the GET works too.
    for action in ("unlock", "lock"):
        r = send(
            api,
            "PATCH",
            f"/v1/ihosts/{host['id']}",
            [{"op": "replace", "path": "/action", "value": action}],
        )
        assert r.status_code == 200
        assert {"vsc_controllers", "ttys_dcd"} <= set(r.json())
        assert set(r.json()) >= SHOW_REQUIRED
        r = send(api, "GET", f"/v1/ihosts/{host['id']}")
        assert r.status_code == 200
    r = send(
        api,
        "PATCH",
        f"/v1/ihosts/{host['id']}",
        [{"op": "replace", "path": "/action", "value": "lock"}],
    )
    assert r.status_code == 400
    fault = json.loads(r.json()["error_message"])
    assert fault["faultstring"] == "Avoiding lock action on already 'locked' host worker-0"

    # 404s the client turns into "host not found" / "Host label not found".
    assert send(api, "GET", "/v1/ihosts/424242").status_code == 404
    assert (
        send(
            api,
            "PATCH",
            "/v1/ihosts/424242",
            [{"op": "replace", "path": "/action", "value": "lock"}],
        ).status_code
        == 404
    )
    assert send(api, "GET", f"/v1/labels/{k1['uuid']}").status_code == 404

    # host-delete.
    assert send(api, "DELETE", f"/v1/ihosts/{uuid}").status_code == 204


def test_system_commands(api: Stack) -> None:
    r = send(api, "GET", "/v1/isystems")
    (system,) = r.json()["isystems"]
    for key in (
        "uuid",
        "name",
        "system_type",
        "system_mode",
        "description",
        "location",
        "contact",
        "software_version",
        "created_at",
        "updated_at",
    ):
        assert key in system
    r = send(
        api,
        "PATCH",
        f"/v1/isystems/{system['uuid']}",
        [{"op": "replace", "path": "/location", "value": "Ottawa"}],
    )
    assert r.status_code == 200 and r.json()["location"] == "Ottawa"


# What StarlingX's `system show` prints: these plain fields (read with a default), then
# sdn_enabled, https_enabled and vswitch_type read from capabilities only (shown when not
# None), shared_services from capabilities when region_config is set, and
# distributed_cloud_role read as an attribute (a missing key fails the command).
SYSTEM_SHOW_FIELDS = {
    "name", "system_type", "system_mode", "description", "location", "latitude",
    "longitude", "contact", "timezone", "software_version", "uuid", "created_at",
    "updated_at", "region_name", "service_project_name", "security_feature",
}  # fmt: skip


def _check_system_show(system: dict[str, Any]) -> None:
    assert SYSTEM_SHOW_FIELDS | {"capabilities", "distributed_cloud_role"} <= set(system)
    caps = system["capabilities"]
    assert caps["sdn_enabled"] is False
    assert caps["https_enabled"] is False
    assert caps["vswitch_type"] == "none"
    assert caps["shared_services"] == "[]"
    assert not caps["region_config"]


def test_system_show_reads_features_from_capabilities(api: Stack) -> None:
    r = send(api, "GET", "/v1/isystems")
    (system,) = r.json()["isystems"]
    _check_system_show(system)
    # The same object by uuid, and the top-level copies older callers read.
    r = send(api, "GET", f"/v1/isystems/{system['uuid']}")
    _check_system_show(r.json())
    assert (r.json()["sdn_enabled"], r.json()["https_enabled"]) == (False, False)
    assert r.json()["vswitch_type"] == "none"
    # `system modify` prints the PATCH answer the same way, with no lazy reload.
    r = send(
        api,
        "PATCH",
        f"/v1/isystems/{system['uuid']}",
        [{"op": "replace", "path": "/contact", "value": "noc"}],
    )
    assert r.status_code == 200
    _check_system_show(r.json())


@contextmanager
def system_restored(api: Stack) -> Iterator[dict[str, Any]]:
    """The system row as a test leaves it is put back: the stack keeps it across tests."""
    columns = ("system_type", "system_mode", "timezone", "latitude", "longitude", "contact")
    with api.db.session() as s:
        saved = {c: getattr(get_system(s), c) for c in columns}
    try:
        yield send(api, "GET", "/v1/isystems").json()["isystems"][0]
    finally:
        with api.db.session() as s:
            system = get_system(s)
            for c, v in saved.items():
                setattr(system, c, v)


def modify(api: Stack, uuid: str, **fields: str) -> Any:
    """`system modify --<field> <value> ...`: every value a string, as typed."""
    ops = [{"op": "replace", "path": f"/{k}", "value": v} for k, v in fields.items()]
    return send(api, "PATCH", f"/v1/isystems/{uuid}", ops)


def test_system_modify_timezone_and_coordinates(api: Stack) -> None:
    with system_restored(api) as system:
        uuid = system["uuid"]
        assert system["timezone"] == "UTC"
        r = modify(api, uuid, timezone="America/Toronto", latitude="45.4215", longitude="-75.6972")
        assert r.status_code == 200, r.text
        _check_system_show(r.json())
        (shown,) = send(api, "GET", "/v1/isystems").json()["isystems"]
        assert (shown["timezone"], shown["latitude"], shown["longitude"]) == (
            "America/Toronto",
            "45.4215",
            "-75.6972",
        )
        for fields, message in (
            ({"timezone": "Mars/Olympus"}, "Invalid timezone 'Mars/Olympus'"),
            ({"timezone": "../../etc/passwd"}, "not a name of the IANA time zone database"),
            ({"latitude": "90.5"}, "Latitude must be between -90 and +90"),
            ({"latitude": "north"}, "Latitude must be between -90 and +90"),
            ({"longitude": "-180.01"}, "Longitude must be between -180 and +180"),
            # One bad value refuses the whole patch.
            ({"contact": "someone else", "latitude": "100"}, "Latitude must be between"),
        ):
            r = modify(api, uuid, **fields)
            assert r.status_code == 400, (fields, r.text)
            assert message in fault(r)
        (shown,) = send(api, "GET", "/v1/isystems").json()["isystems"]
        assert (shown["timezone"], shown["latitude"]) == ("America/Toronto", "45.4215")
        assert shown["contact"] != "someone else"
        assert modify(api, uuid, latitude="-90", longitude="+180.0").status_code == 200


def test_system_modify_system_mode_follows_starlingx_transitions(api: Stack) -> None:
    with system_restored(api) as system:
        uuid = system["uuid"]
        assert system["system_mode"] == "simplex"
        controller = api.add_host("controller-0", "controller")
        assert api.action(controller, "unlock").status_code == 200
        r = modify(api, uuid, system_mode="duplex")
        assert r.status_code == 400
        assert fault(r) == "Cannot modify system mode if host 'controller-0' is not locked."
        assert api.action(controller, "lock").status_code == 200
        r = modify(api, uuid, system_mode="duplex")
        assert r.status_code == 200, r.text
        assert r.json()["system_mode"] == "duplex"
        r = modify(api, uuid, system_mode="simplex")
        assert r.status_code == 400
        assert fault(r) == "Cannot modify system mode from duplex to simplex."
        r = modify(api, uuid, system_mode="duplex-direct")
        assert r.status_code == 200 and r.json()["system_mode"] == "duplex-direct"
        r = modify(api, uuid, system_mode="triplex")
        assert r.status_code == 400 and "Invalid system_mode 'triplex'" in fault(r)
        with api.db.session() as s:
            get_system(s).system_type = "Standard"
        r = modify(api, uuid, system_mode="duplex")
        assert r.status_code == 400
        assert "system_mode can only be modified on an All-in-one system" in fault(r)


def test_system_modify_refuses_what_the_platform_lacks(api: Stack) -> None:
    with system_restored(api) as system:
        uuid = system["uuid"]
        # `system modify -p true` lists the certificates first, then sends its PATCH.
        r = send(api, "GET", "/v1/certificate")
        assert r.status_code == 200 and r.json() == {"certificates": []}
        for fields, why in (
            ({"https_enabled": "true"}, "sysinv-api serves plain HTTP"),
            ({"sdn_enabled": "true"}, "no SDN controller"),
            ({"vswitch_type": "ovs-dpdk"}, "this platform has no vswitch to change"),
            ({"security_feature": "spectre_meltdown_v1"}, "kernel boot arguments"),
            ({"contact": "x", "vswitch_type": "none"}, "no vswitch to change"),
        ):
            r = modify(api, uuid, **fields)
            assert r.status_code == 400, (fields, r.text)
            assert why in fault(r)
        (shown,) = send(api, "GET", "/v1/isystems").json()["isystems"]
        assert shown["contact"] == system["contact"]
        _check_system_show(shown)


def bulk_add(api: Stack, hosts_file: bytes) -> Any:
    """`system host-bulk-add FILE`: the file as the `file` part (named "for_upload") of a
    multipart form, posted with `requests` and only the token header; the client prints
    the answer's `success` and `error` whatever the status."""
    prepared = requests.Request(
        "POST",
        f"{api.client.base_url}/v1/ihosts/bulk_add",
        headers={"X-Auth-Token": "anything"},
        files={"file": ("for_upload", io.BytesIO(hosts_file))},
    ).prepare()
    headers = {
        "user-agent": "python-requests/2.32.3",
        "accept-encoding": "gzip, deflate",
        "accept": "*/*",
        **dict(prepared.headers),
    }
    r = api.client.post("/v1/ihosts/bulk_add", content=prepared.body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def hosts_xml(*hosts: dict[str, str], extra: str = "") -> bytes:
    items = "".join(
        "<host>" + "".join(f"<{k}>{v}</{k}>" for k, v in h.items()) + extra + "</host>"
        for h in hosts
    )
    return f'<?xml version="1.0" ?>\n<hosts version="x">{items}</hosts>\n'.encode()


def test_host_bulk_export_then_bulk_add(api: Stack) -> None:
    api.add_host("worker-0", "worker", mgmt_mac="08:00:27:00:00:10", location={"locn": "rack 1"},
                 bm_type="ipmi", bm_username="root", bm_password="secret")  # fmt: skip
    api.add_host("controller-0", "controller", mgmt_mac="08:00:27:00:00:01")
    api.add_host("storage-0", "storage")

    # host-bulk-export: GET, {"content": "<xml>"}.
    r = send(api, "GET", "/v1/ihosts/bulk_export")
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"content"}
    exported = r.json()["content"]
    root = ET.fromstring(exported)
    (system,) = send(api, "GET", "/v1/isystems").json()["isystems"]
    assert (root.tag, root.get("version")) == ("hosts", system["software_version"])
    rows = [{child.tag: child.text for child in host} for host in root.findall("host")]
    assert [(h["personality"], h["hostname"]) for h in rows] == [
        ("controller", "controller-0"), ("storage", "storage-0"), ("worker", "worker-0"),
    ]  # fmt: skip
    worker = rows[2]
    assert worker["subfunctions"] == "worker" and worker["mgmt_mac"] == "08:00:27:00:00:10"
    assert (worker["location"], worker["bm_type"], worker["bm_username"]) == (
        "rack 1",
        "ipmi",
        "root",
    )
    assert worker["bm_password"] is None  # never exported
    assert "subfunctions" not in rows[0]

    # host-bulk-add of the export: the hosts still there are reported, the others added.
    for host in send(api, "GET", "/v1/ihosts").json()["ihosts"]:
        if host["hostname"] != "controller-0":
            assert send(api, "DELETE", f"/v1/ihosts/{host['id']}").status_code == 204
    answer = bulk_add(api, exported.encode())
    assert answer == {
        "success": "\n storage-0\n worker-0",
        "error": " controller-0: Host with hostname controller-0 already exists\n",
    }
    listed = {h["hostname"]: h for h in send(api, "GET", "/v1/ihosts").json()["ihosts"]}
    assert set(listed) == {"controller-0", "storage-0", "worker-0"}
    again = listed["worker-0"]
    assert (again["personality"], again["mgmt_mac"], again["location"]) == (
        "worker",
        "08:00:27:00:00:10",
        {"locn": "rack 1"},
    )
    assert (again["administrative"], again["bm_type"]) == ("locked", "ipmi")


def test_host_bulk_add_refusals_add_nothing(api: Stack) -> None:
    good = {"hostname": "worker-1", "personality": "worker"}
    for hosts_file, error in (
        (b"<hosts><host>", "No hosts have been added, invalid XML document"),
        (b"<hosts></hosts>", "No hosts have been added, the document has no <host> element"),
        (
            b'<!DOCTYPE hosts [<!ENTITY x "y">]><hosts><host/></hosts>',
            "No hosts have been added, a hosts file may not hold a DOCTYPE",
        ),
        (  # billion laughs: refused before anything expands
            b'<!DOCTYPE h [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><hosts><host>&c;</host></hosts>',
            "No hosts have been added, a hosts file may not hold a DOCTYPE",
        ),
        (
            hosts_xml(good, {"hostname": "worker-2", "personality": "router"}),
            " No hosts have been added, error parsing host worker-2: Invalid personality "
            "'router': must be one of controller, worker, storage",
        ),
        (
            hosts_xml(good, {"personality": "worker", "mgmt_mac": "08:00:27:00:00:02"}),
            " No hosts have been added, error parsing host with index 1: Hostname is "
            "required and must be a non-empty string",
        ),
    ):
        assert bulk_add(api, hosts_file) == {"success": "", "error": error}
    assert send(api, "GET", "/v1/ihosts").json()["ihosts"] == []
    # What this platform cannot do for a host is said, and the host is still added.
    answer = bulk_add(api, hosts_xml(good, extra="<power_on/>"))
    assert answer == {
        "success": "\n worker-1 Warning: Ignoring <power_on>: this platform does not power "
        "hosts on (no board management integration).",
        "error": "",
    }
    # A form without the file: said as the client reads it. Not a form at all: an error.
    r = api.client.post("/v1/ihosts/bulk_add", files={"other": ("x", b"<hosts/>")})
    assert r.status_code == 200
    assert r.json() == {
        "success": "",
        "error": "Error: No file uploaded (no 'file' part in the form)",
    }
    r = api.client.post("/v1/ihosts/bulk_add", json={"hosts": []})
    assert r.status_code == 400 and "multipart/form-data" in fault(r)
    # Other callers may send the document itself.
    other = hosts_xml({"hostname": "worker-3", "personality": "worker"})
    r = api.client.post(
        "/v1/ihosts/bulk_add", content=other, headers={"content-type": "application/xml"}
    )
    assert r.json() == {"success": "\n worker-3", "error": ""}


def test_reserved_paths_never_reach_the_host_lookup(api: Stack) -> None:
    for method, path in (
        ("GET", "/v1/ihosts/bulk_add"),
        ("PATCH", "/v1/ihosts/bulk_add"),
        ("DELETE", "/v1/ihosts/bulk_add"),
        ("POST", "/v1/ihosts/bulk_export"),
        ("PATCH", "/v1/ihosts/bulk_export"),
        ("DELETE", "/v1/ihosts/bulk_export"),
    ):
        r = send(api, method, path, [] if method == "PATCH" else None)
        assert r.status_code == 405, (method, path, r.text)
        assert fault(r) == f"Method {method} is not allowed on {path}"
    r = send(api, "GET", "/v1/ihosts/bulk_export/labels")
    assert r.status_code == 404
    assert "is the bulk_export action" in fault(r)


# host-lock -f -u, host-swact -f, host-reboot, host-power-on: each looks the host up
# (here by name: GET /v1/ihosts), then PATCHes /v1/ihosts/<id> with one replace of /action.
REFUSED_ACTIONS = {
    "force-unsafe-lock": "a forced lock here keeps none",
    "force-swact": "a swact here only moves the active role",
    "reboot": "sysinv's agent does not restart nodes",
    "power-on": "no board management (BMC) integration to power a node on",
}


def test_host_actions_this_platform_refuses(api: Stack) -> None:
    api.add_host("controller-0", "controller")
    for value, why in REFUSED_ACTIONS.items():
        (host,) = [
            h for h in send(api, "GET", "/v1/ihosts").json()["ihosts"]
            if h["hostname"] == "controller-0"
        ]  # fmt: skip
        ops = [{"op": "replace", "path": "/action", "value": value}]
        r = send(api, "PATCH", f"/v1/ihosts/{host['id']}", ops)
        assert r.status_code == 400, (value, r.text)
        message = fault(r)
        assert message.startswith(f"Host action '{value}' (host-"), message
        assert "is not supported: " in message and why in message
        shown = send(api, "GET", f"/v1/ihosts/{host['id']}").json()
        assert shown["administrative"] == "locked"
    # Unlocked, the refusal is the same and the host stays unlocked.
    assert api.action(host, "unlock").status_code == 200
    for value in REFUSED_ACTIONS:
        r = api.action(host, value)
        assert r.status_code == 400 and "is not supported" in fault(r)
    assert send(api, "GET", f"/v1/ihosts/{host['id']}").json()["administrative"] == "unlocked"
