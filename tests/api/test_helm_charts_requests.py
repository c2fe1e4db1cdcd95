"""``/v1/helm_charts`` requests: user overrides, attributes, secrets and refusals
(as StarlingX's helm-override commands send them), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from sysinv_common.db.models import AppChart, GeneratedSecret
from tests.api.test_hosts import fault
from tests.helm_charts.mini_app import APP_NAME, build_mini_app
from tests.helm_charts.topologies import TOPOLOGIES, build_hosts, topology_settings
from tests.servers.helm import HelmBinary
from tests.stack import Stack, running_stack, wait_done
from tests.unit.test_bounded_yaml import laughs

URL = f"/v1/helm_charts/{APP_NAME}"
MEMCACHED = {"name": "memcached", "namespace": "openstack"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, helm3: HelmBinary
) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("charts")
    url = request.getfixturevalue("postgres_db_url") if request.param == "postgres" else None
    topo = TOPOLOGIES["aio-simplex"]
    # No Ceph: the platform charts have nothing to be configured from.
    settings = topology_settings(tmp / "state", topo, url, str(helm3.path))
    bundle = build_mini_app(helm3, tmp, only={"memcached", "keystone", "rbd-provisioner"})
    with running_stack(settings) as s:
        build_hosts(s, topo)
        r = s.client.post("/v1/apps", json={
            "tarfile": bundle.name,
            "binary_data": base64.urlsafe_b64encode(bundle.read_bytes()).decode(),
        })  # fmt: skip
        assert r.status_code == 200, r.text
        assert wait_done(s, APP_NAME)["status"] == "uploaded"
        yield s


@pytest.fixture
def api(stack: Stack) -> Iterator[Stack]:
    yield stack
    for chart, ns in (("memcached", "openstack"), ("keystone", "openstack")):
        stack.client.delete(URL, params={"name": chart, "namespace": ns})
        enable = {"flags": {}, "values": {}, "attributes": {"enabled": "true"}}
        stack.client.patch(URL, params={"name": chart, "namespace": ns}, json=enable)


def patch(api: Stack, body: dict[str, Any], **params: str) -> Any:
    return api.client.patch(URL, params=params or MEMCACHED, json=body)


def update_body(
    files: list[dict[str, Any]] = (), sets: list[str] = (), reuse: bool = False
) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "flags": {"reuse_values": reuse, "reset_values": not reuse, "reapply": False,
                  "reapply_all": False},
        "values": {"files": [yaml.safe_dump(f) for f in files], "set": list(sets)},
        "attributes": {},
    }  # fmt: skip


def shown(api: Stack, **params: str) -> dict[str, Any]:
    r = api.client.get(URL, params=params or MEMCACHED)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_list_shape_with_trailing_slash(api: Stack) -> None:
    r = api.client.get("/v1/helm_charts/", params={"app_name": APP_NAME})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"charts": [
        {"name": "keystone", "namespaces": ["openstack"], "enabled": [True]},
        {"name": "memcached", "namespaces": ["openstack"], "enabled": [True]},
        {"name": "rbd-provisioner", "namespaces": ["kube-system"], "enabled": [True]},
    ]}  # fmt: skip


def test_update_files_then_set_layers_over_system(api: Stack) -> None:
    r = patch(api, update_body([{"pod": {"replicas": {"server": 3}}, "conf": {"a": 1}}],
                               ["conf.b=two", "conf.list[1]=x"]))  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["name"], body["namespace"]) == ("memcached", "openstack")
    user = yaml.safe_load(body["user_overrides"])
    assert user == {"pod": {"replicas": {"server": 3}},
                    "conf": {"a": 1, "b": "two", "list": [None, "x"]}}  # fmt: skip
    show = shown(api)
    assert yaml.safe_load(show["user_overrides"]) == user
    system = yaml.safe_load(show["system_overrides"])
    combined = yaml.safe_load(show["combined_overrides"])
    assert system["pod"]["replicas"]["server"] == 1
    assert combined["pod"]["replicas"]["server"] == 3
    assert combined["endpoints"] == system["endpoints"]
    assert combined["conf"]["b"] == "two"


def test_reuse_merges_and_reset_replaces(api: Stack) -> None:
    assert patch(api, update_body([{"conf": {"a": 1, "keep": True}}])).status_code == 200
    r = patch(api, update_body([{"conf": {"a": 2}}], ["conf.n=5"], reuse=True))
    assert yaml.safe_load(r.json()["user_overrides"]) == {"conf": {"a": 2, "keep": True, "n": 5}}
    r = patch(api, update_body([{"conf": {"z": None}}]))
    assert yaml.safe_load(r.json()["user_overrides"]) == {"conf": {"z": None}}
    # --reset-values with nothing else clears them.
    r = patch(api, update_body())
    assert r.status_code == 200
    assert shown(api)["user_overrides"] is None


def test_delete_clears_and_is_idempotent(api: Stack) -> None:
    patch(api, update_body([{"conf": {"a": 1}}]))
    for _ in range(2):
        r = api.client.delete(URL, params=MEMCACHED)
        assert r.status_code == 204 and not r.content
    assert shown(api)["user_overrides"] is None


def test_enabled_attribute_leaves_the_list_and_plan(api: Stack) -> None:
    r = patch(api, {"flags": {}, "values": {}, "attributes": {"enabled": "false"}})
    assert r.status_code == 200, r.text
    assert r.json() == {"name": "memcached", "namespace": "openstack",
                        "attributes": {"enabled": False}}  # fmt: skip
    charts = api.client.get("/v1/helm_charts", params={"app_name": APP_NAME}).json()["charts"]
    assert {c["name"]: c["enabled"] for c in charts}["memcached"] == [False]
    assert shown(api)["attributes"] == "enabled: false\n"


def test_secrets_are_masked_generated_once_and_encrypted(api: Stack) -> None:
    params = {"name": "keystone", "namespace": "openstack"}
    masked = yaml.safe_load(shown(api, **params)["system_overrides"])
    assert masked["endpoints"]["identity"]["auth"]["admin"]["password"] == "******"
    r = api.client.get(URL, params={**params, "show_secrets": "true"})
    plain = yaml.safe_load(r.json()["system_overrides"])
    password = plain["endpoints"]["identity"]["auth"]["admin"]["password"]
    assert len(password) >= 24 and password != "******"
    again = yaml.safe_load(api.client.get(URL, params={**params, "show_secrets": "true"})
                           .json()["combined_overrides"])  # fmt: skip
    assert again["endpoints"]["identity"]["auth"]["admin"]["password"] == password
    with api.db.session() as s:
        rows = s.scalars(select(GeneratedSecret)).all()
        assert {r.name for r in rows} >= {"keystone-admin", "mariadb-admin", "keystone-db"}
        assert all(password not in r.ciphertext for r in rows)
    key = api.settings.secrets_key_path
    assert key.stat().st_mode & 0o777 == 0o600
    assert password.encode() not in key.read_bytes()


def test_not_configured_chart_says_so(api: Stack) -> None:
    body = shown(api, name="rbd-provisioner", namespace="kube-system")
    assert body["system_overrides"] is None
    assert "storage backend ceph is not configured" in body["system_overrides_note"]


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PATCH", {}), ("DELETE", None)])
def test_unknown_app(api: Stack, method: str, body: Any) -> None:
    r = api.client.request(method, "/v1/helm_charts/nope", params=MEMCACHED, json=body)
    assert r.status_code == 400
    assert fault(r) == "Application nope not found."
    r = api.client.get("/v1/helm_charts/", params={"app_name": "nope"})
    assert r.status_code == 400 and fault(r) == "Application nope not found."


@pytest.mark.parametrize(
    ("params", "body", "message"),
    [
        ({"name": "", "namespace": "openstack"}, {}, "Name must be specified."),
        ({"name": "memcached"}, {}, "Namespace must be specified."),
        (MEMCACHED, {"attributes": {"colour": "red"}},
         "Invalid chart attribute: colour must be one of [enabled]"),
        (MEMCACHED, {"attributes": {"enabled": "maybe"}}, "Invalid value for enabled"),
        (MEMCACHED, {"flags": {"force": True}}, "Invalid flag: force must be one of"),
        (MEMCACHED, {"flags": {"reuse_values": True, "reset_values": True}}, "cannot both be true"),
        (MEMCACHED, {"values": {"set": ["a=1,b=2"]}},
         "Invalid input: One (or more) set overrides contains multiple values. "
         "Consider using --values option instead."),
        (MEMCACHED, {"values": {"set": ["a[x]=1"]}}, "Invalid input: --set a[x]=1"),
        (MEMCACHED, {"values": {"files": ["- a\n- b\n"]}}, "values file 1 must be a YAML mapping"),
        (MEMCACHED, {"values": {"files": ["a: [\n"]}}, "values file 1 is not valid YAML"),
        (MEMCACHED, {"values": {"files": "a: 1"}}, "values.files must be a list of strings"),
        (MEMCACHED, ["not", "an", "object"], "the body must be an object"),
        ({"name": "nova", "namespace": "openstack"}, {"values": {"set": ["a=1"]}},
         "Chart overrides nova:openstack for application openstack-mini not found"),
    ],
)  # fmt: skip
def test_patch_refusals(api: Stack, params: dict[str, str], body: Any, message: str) -> None:
    before = shown(api)
    r = api.client.patch(URL, params=params, json=body)
    assert r.status_code in (400, 404), r.text
    assert message in fault(r)
    assert shown(api) == before


def test_escaped_comma_is_a_value(api: Stack) -> None:
    r = patch(api, update_body(sets=[r"conf.list=a\,b"]))
    assert r.status_code == 200, r.text
    assert yaml.safe_load(r.json()["user_overrides"]) == {"conf": {"list": "a,b"}}


def test_show_unknown_chart(api: Stack) -> None:
    r = api.client.get(URL, params={"name": "nova", "namespace": "openstack"})
    assert r.status_code == 404
    assert "Chart overrides nova:openstack for application openstack-mini not found" in fault(r)


def values_body(files: list[str] = (), sets: list[str] = (), reuse: bool = False) -> Any:  # type: ignore[assignment]
    return {"flags": {"reuse_values": reuse, "reset_values": not reuse},
            "values": {"files": list(files), "set": list(sets)}}  # fmt: skip


def test_alias_bomb_values_file_is_refused_at_once(api: Stack) -> None:
    bomb = laughs(8)  # under 400 bytes; a billion nodes once expanded
    before = shown(api)
    started = time.monotonic()
    r = patch(api, values_body([bomb]))
    assert r.status_code == 400, r.text
    assert fault(r) == "Invalid input: values file 1: YAML aliases expand to more than 10000 nodes"
    assert time.monotonic() - started < 5
    assert shown(api) == before


@pytest.mark.parametrize(
    ("files", "sets", "message"),
    [
        (["a: " + "[" * 1000 + "]" * 1000], [],
         "Invalid input: values file 1: YAML is nested more than 64 levels deep"),
        (["ok: 1", "a: " + "{b: " * 100_000], [],
         "Invalid input: values file 2: YAML is nested more than 64 levels deep"),
        (["a: &a [1, *a]"], [], "values file 1: YAML alias refers to a node that contains it"),
        (["a: " + "1" * 5000], [], "values file 1: YAML integer has more than 1000 digits"),
        ([], ["a" + "[0]" * 5000 + "=1"], "values nested more than 64 levels deep"),
        ([], ["a" + "[0]" * 64 + "=1"],
         "Invalid input: the user overrides would be nested more than 64 levels deep"),
    ],
)  # fmt: skip
def test_deep_or_huge_values_are_refused(
    api: Stack, files: list[str], sets: list[str], message: str
) -> None:
    before = shown(api)
    r = patch(api, values_body(files, sets))
    assert r.status_code == 400, r.text
    assert message in fault(r)
    assert shown(api) == before


def test_stored_user_overrides_hold_no_aliases(api: Stack) -> None:
    text = "base: &b {cpu: 1, mem: [1, 2]}\napi: *b\nworker: {<<: *b, cpu: 2}\n"
    r = patch(api, values_body([text], ["api.extra=x"]))
    assert r.status_code == 200, r.text
    stored = r.json()["user_overrides"]
    assert "&" not in stored and "*" not in stored
    assert yaml.safe_load(stored) == {
        "base": {"cpu": 1, "mem": [1, 2]},
        "api": {"cpu": 1, "mem": [1, 2], "extra": "x"},
        "worker": {"cpu": 2, "mem": [1, 2]},
    }
    with api.db.session() as s:
        row = s.scalars(select(AppChart).where(AppChart.chart_name == "memcached")).one()
        assert row.user_overrides == stored


def test_a_bomb_stored_before_the_limits_is_refused_and_can_be_cleared(api: Stack) -> None:
    with api.db.session() as s:
        row = s.scalars(select(AppChart).where(AppChart.chart_name == "memcached")).one()
        row.user_overrides = laughs(8)
    advice = (
        "The user overrides stored for chart memcached:openstack of application "
        "openstack-mini cannot be used: YAML aliases expand to more than 10000 nodes. "
        "Clear them with: system helm-override-delete openstack-mini memcached openstack"
    )
    started = time.monotonic()
    r = api.client.get(URL, params=MEMCACHED)
    assert r.status_code == 400 and fault(r) == advice
    r = patch(api, values_body(["a: 1"], reuse=True))
    assert r.status_code == 400 and fault(r) == advice
    assert time.monotonic() - started < 5
    assert api.client.delete(URL, params=MEMCACHED).status_code == 204
    assert shown(api)["user_overrides"] is None


def test_stored_user_overrides_hold_json_types_only(api: Stack) -> None:
    # PyYAML's set, date and bytes crashed the apply call (its job goes out as JSON).
    text = "tags: !!set {a, b}\nwhen: 2024-01-02\nblob: !!binary aGVsbG8=\nkv: !!omap [{x: 1}]\n"
    r = patch(api, values_body([text]))
    assert r.status_code == 200, r.text
    stored = r.json()["user_overrides"]
    assert "!!" not in stored
    loaded = yaml.safe_load(stored)
    assert loaded == {"tags": {"a": None, "b": None}, "when": "2024-01-02", "blob": "hello",
                      "kv": [{"x": 1}]}  # fmt: skip
    assert json.loads(json.dumps(loaded)) == loaded
