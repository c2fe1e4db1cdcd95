"""Host labels over the v1 API, as host-label-list, -assign and -remove use it."""

from __future__ import annotations

import pytest

from tests.api.test_hosts import fault
from tests.stack import Stack


def labels_of(api: Stack, host: dict[str, object]) -> dict[str, str]:
    r = api.client.get(f"/v1/ihosts/{host['uuid']}/labels")
    assert r.status_code == 200
    items = r.json()["labels"]
    for item in items:
        assert set(item) == {"uuid", "host_uuid", "label_key", "label_value"}
        assert item["host_uuid"] == host["uuid"]
    return {i["label_key"]: i["label_value"] for i in items}


def test_assign_show_and_remove(api: Stack) -> None:
    host = api.add_host("worker-0")
    r = api.client.post(
        f"/v1/labels/{host['uuid']}?overwrite=False",
        json={"openstack-compute-node": "enabled", "example.com/zone": "a"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [lb["label_key"] for lb in body["labels"]] == [
        "example.com/zone",
        "openstack-compute-node",
    ]
    assert body["kube_node"].startswith("skipped: no Kubernetes")
    for lb in body["labels"]:
        shown = api.client.get(f"/v1/labels/{lb['uuid']}")
        assert shown.status_code == 200
        assert shown.json() == lb
    assert labels_of(api, host) == {"openstack-compute-node": "enabled", "example.com/zone": "a"}
    target = body["labels"][0]["uuid"]
    assert api.client.delete(f"/v1/labels/{target}").status_code == 204
    assert labels_of(api, host) == {"openstack-compute-node": "enabled"}
    assert api.client.get(f"/v1/labels/{target}").status_code == 404
    r = api.client.delete(f"/v1/labels/{target}")
    assert r.status_code == 400
    assert "No label found" in fault(r)


def test_existing_key_needs_overwrite_and_nothing_changes(api: Stack) -> None:
    host = api.add_host("worker-0")
    api.client.post(f"/v1/labels/{host['uuid']}?overwrite=False", json={"a": "1"})
    r = api.client.post(f"/v1/labels/{host['uuid']}?overwrite=False", json={"a": "2", "b": "3"})
    assert r.status_code == 400
    assert fault(r) == (
        "Label a exists for host worker-0. Use overwrite option to assign a new value."
    )
    assert labels_of(api, host) == {"a": "1"}
    r = api.client.post(f"/v1/labels/{host['uuid']}?overwrite=True", json={"a": "2", "b": "3"})
    assert r.status_code == 200
    assert labels_of(api, host) == {"a": "2", "b": "3"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"novalue": None}, "needs a value"),
        ({"-bad": "x"}, "Invalid label key '-bad'"),
        ({"k" * 64: "x"}, "name is longer than 63"),
        ({"Example.COM/x": "y"}, "prefix must be a DNS subdomain"),
        ({("a" * 254) + "/x": "y"}, "prefix is longer than 253"),
        ({"a/b/c": "y"}, "at most one '/'"),
        ({"/x": "y"}, "prefix before '/' is empty"),
        ({"k": "v" * 64}, "longer than 63"),
        ({"k": "bad value"}, "Invalid value 'bad value'"),
        ({"k": "-v"}, "Invalid value '-v'"),
        ({}, "No labels given"),
        (["k=v"], "JSON object"),
    ],
)
def test_label_syntax(api: Stack, body: object, message: str) -> None:
    host = api.add_host("worker-0")
    r = api.client.post(f"/v1/labels/{host['uuid']}?overwrite=True", json=body)
    assert r.status_code == 400, r.text
    assert message in fault(r)
    assert labels_of(api, host) == {}


def test_valid_edge_labels(api: Stack) -> None:
    host = api.add_host("worker-0")
    labels = {"a" * 63: "", "x.y-z/Name_1.b": "v" * 63, "k": "A-b_c.D"}
    r = api.client.post(f"/v1/labels/{host['uuid']}?overwrite=True", json=labels)
    assert r.status_code == 200, r.text
    assert labels_of(api, host) == labels


def test_labels_on_unknown_host_and_bad_overwrite(api: Stack) -> None:
    r = api.client.post(
        "/v1/labels/2f1e7b6a-0000-4000-8000-000000000000?overwrite=True", json={"a": "b"}
    )
    assert r.status_code == 400
    assert "Host not found" in fault(r)
    host = api.add_host("worker-0")
    r = api.client.post(f"/v1/labels/{host['uuid']}?overwrite=maybe", json={"a": "b"})
    assert r.status_code == 400
    assert "Invalid value for overwrite" in fault(r)
