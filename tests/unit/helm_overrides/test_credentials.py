"""Every credential every chart version reads is generated, one password per user
(issue 22, item 10).

The chart versions are those of tests/data/chart_key_paths.json: today's charts and those
StarlingX's stx-openstack pinned from 2019 to 2021. A chart's credential entries are its
``endpoints.<oslo_db*|oslo_messaging*|identity>.auth.<entry>.password`` key paths (and
``endpoints.oslo_cache.auth.memcache_secret_key``); each plugin gets, as the chart's values,
those entries with the usernames the chart's values.yaml gives them.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from helm_overrides.plugin import load_plugins
from helm_overrides.snapshot import CephView, ChartInput, HostView, ModelSnapshot, SecretRef

DATA = Path(__file__).resolve().parents[2] / "data" / "chart_key_paths.json"
CREDENTIAL = re.compile(
    r"^endpoints\.(?P<endpoint>oslo_db\w*|oslo_messaging\w*|identity)\.auth\.(?P<entry>[^.]+)"
    r"\.password$"
)
MEMCACHE = "endpoints.oslo_cache.auth.memcache_secret_key"
PLUGINS = load_plugins()
SNAP = ModelSnapshot(
    "s", "Standard", "duplex", "RegionOne",
    hosts=(HostView("controller-0", "controller"), HostView("controller-1", "controller")),
    ceph=CephView(("192.168.204.2:6789",)),
)  # fmt: skip


@cache
def facts() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return loaded


def versions() -> list[tuple[str, str]]:
    """(chart, version) of every openstack chart version in the facts."""
    out = [(c, "current") for c in sorted(facts()["charts"])]
    for chart, by_version in sorted(facts()["starlingx"]["charts"].items()):
        out += [(chart, version) for version in sorted(by_version)]
    return out


def entry_of(chart: str, version: str) -> dict[str, Any]:
    if version == "current":
        entry: dict[str, Any] = facts()["charts"][chart]
    else:
        entry = facts()["starlingx"]["charts"][chart][version]
    return entry


def kind(endpoint: str) -> str:
    return "identity" if endpoint == "identity" else endpoint.split("_")[1].rstrip("0123456789")


def credential_paths(entry: dict[str, Any]) -> list[str]:
    return [p for p in entry["key_paths"] if CREDENTIAL.match(p) or p == MEMCACHE]


def chart_values(entry: dict[str, Any]) -> dict[str, Any]:
    """The chart's credential entries, as its values.yaml has them (with its usernames)."""
    endpoints: dict[str, Any] = {}
    for path in credential_paths(entry):
        match = CREDENTIAL.match(path)
        if match is None:  # the memcache key
            endpoints["oslo_cache"] = {"auth": {"memcache_secret_key": None}}
            continue
        auth = endpoints.setdefault(match["endpoint"], {}).setdefault("auth", {})
        item = auth.setdefault(match["entry"], {"password": "password"})
        username = entry["credential_usernames"].get(path.removesuffix(".password"))
        if username is not None:
            item["username"] = username
    return {"endpoints": endpoints}


def at(values: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(values, dict) or key not in values:
            return None
        values = values[key]
    return values


def outputs() -> list[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
    """(chart, version, namespace, facts entry, plugin output) for every chart version."""
    out = []
    for chart, version in versions():
        entry = entry_of(chart, version)
        for namespace in PLUGINS[chart].namespaces:
            chart_input = ChartInput("stx-openstack", chart, namespace, chart_values(entry))
            out.append(
                (chart, version, namespace, entry, PLUGINS[chart].overrides(SNAP, chart_input))
            )
    return out


@pytest.mark.parametrize(("chart", "version"), versions())
def test_every_credential_the_chart_reads_is_generated(chart: str, version: str) -> None:
    entry = entry_of(chart, version)
    known = set(entry["key_paths"])
    for namespace in PLUGINS[chart].namespaces:
        values = chart_values(entry)
        out = PLUGINS[chart].overrides(SNAP, ChartInput("stx-openstack", chart, namespace, values))
        for path in credential_paths(entry):
            assert isinstance(at(out, path), SecretRef), (chart, version, namespace, path)
        # ... and nothing the chart does not read.
        written = [p for p in _leaves(out.get("endpoints", {}), "endpoints") if "auth" in p]
        assert [p for p in written if p not in known] == [], (chart, version, namespace)


def _leaves(values: Any, prefix: str) -> list[str]:
    if isinstance(values, dict):
        return [leaf for k, v in values.items() for leaf in _leaves(v, f"{prefix}.{k}")]
    return [prefix]


def _users_and_secrets() -> tuple[dict[tuple[str, str], set[str]], dict[str, set[tuple[str, str]]]]:
    """Across every chart version: (server, username) -> secrets, and the reverse."""
    secrets: dict[tuple[str, str], set[str]] = defaultdict(set)
    users: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for chart, _version, _ns, entry, out in outputs():
        for path in credential_paths(entry):
            ref = at(out, path)
            assert isinstance(ref, SecretRef), (chart, path)
            match = CREDENTIAL.match(path)
            if match is None:
                user = ("memcache", "secret key")
            else:
                prefix = path.removesuffix(".password")
                # The username the chart ends up with: ours if we set one, else its own.
                name = at(out, f"{prefix}.username") or entry["credential_usernames"].get(
                    prefix, match["entry"]
                )
                user = (kind(match["endpoint"]), name)
            secrets[user].add(ref.name)
            users[ref.name].add(user)
    return secrets, users


def test_one_password_per_user_across_every_chart_and_version() -> None:
    secrets, users = _users_and_secrets()
    assert {user: s for user, s in secrets.items() if len(s) > 1} == {}
    assert {name: u for name, u in users.items() if len(u) > 1} == {}
    # The superusers everyone shares, and the servers' own view of them.
    assert secrets[("db", "root")] == {"mariadb-admin"}
    assert secrets[("messaging", "rabbitmq")] == {"rabbitmq-admin"}
    assert secrets[("identity", "admin")] == {"keystone-admin"}
    assert secrets[("memcache", "secret key")] == {"memcache-secret-key"}


def test_nova_databases_and_their_users_match_mariadb_and_placement() -> None:
    by_version = {(c, v, ns): out for c, v, ns, _, out in outputs()}
    mariadb = [out for (c, _, _), out in by_version.items() if c == "mariadb"]
    root = {at(out, "endpoints.oslo_db.auth.admin.password") for out in mariadb}
    assert root == {SecretRef("mariadb-admin")}
    rabbitmq = [out for (c, _, _), out in by_version.items() if c == "rabbitmq"]
    assert {at(out, "endpoints.oslo_messaging.auth.user.password") for out in rabbitmq} == {
        SecretRef("rabbitmq-admin")
    }
    nova_2019 = by_version[("nova", "openstack-helm@6c7163722", "openstack")]
    for db in ("oslo_db", "oslo_db_api", "oslo_db_cell0"):
        # The database-init jobs create each database's user with these passwords.
        assert at(nova_2019, f"endpoints.{db}.auth.admin.password") == SecretRef("mariadb-admin")
        assert at(nova_2019, f"endpoints.{db}.auth.nova.password") == SecretRef("nova-db")
    assert at(nova_2019, "endpoints.oslo_messaging.auth.admin.password") == SecretRef(
        "rabbitmq-admin"
    )
    assert at(nova_2019, MEMCACHE) == SecretRef("memcache-secret-key")
    # Placement moves nova's API database rows as nova's user.
    placement = by_version[("placement", "openstack-helm@7803000a5", "openstack")]
    assert at(placement, "endpoints.oslo_db.auth.nova_api.password") == SecretRef("nova-db")
    # nova of 2019 uses neutron's own keystone user; today's nova one of its own.
    neutron_2019 = by_version[("neutron", "openstack-helm@6c7163722", "openstack")]
    assert at(nova_2019, "endpoints.identity.auth.neutron") == {
        "region_name": "RegionOne",
        "username": "neutron",
        "password": SecretRef("neutron-keystone"),
    }  # fmt: skip
    assert at(neutron_2019, "endpoints.identity.auth.neutron.password") == SecretRef(
        "neutron-keystone"
    )
    nova_now = by_version[("nova", "current", "openstack")]
    assert at(nova_now, "endpoints.identity.auth.neutron.username") == "nova_neutron"
    assert at(nova_now, "endpoints.identity.auth.neutron.password") == SecretRef(
        "nova_neutron-keystone"
    )
    assert at(nova_now, "endpoints.oslo_db_cell1.auth.nova.password") == SecretRef("nova-db")


def test_a_chart_without_values_gets_the_declared_credentials() -> None:
    out = PLUGINS["nova"].overrides(SNAP, ChartInput("a", "nova", "openstack"))
    assert set(out["endpoints"]) == {
        "cluster_domain_suffix", "identity", "oslo_db", "oslo_messaging",
    }  # fmt: skip
    assert set(out["endpoints"]["identity"]["auth"]) == {"admin", "nova", "neutron", "placement"}
    rabbitmq = PLUGINS["rabbitmq"].overrides(SNAP, ChartInput("a", "rabbitmq", "openstack"))
    assert rabbitmq["endpoints"]["oslo_messaging"] == {
        "auth": {"user": {"password": SecretRef("rabbitmq-admin")}}
    }


def test_an_odd_username_still_names_one_bounded_secret() -> None:
    long_name = "u" * 300
    values = {"endpoints": {"oslo_db": {"auth": {
        "a": {"username": long_name, "password": "x"},
        "b": {"username": long_name, "password": "x"},
        "c": {"username": "c d", "password": "x"},
    }}}}  # fmt: skip
    out = PLUGINS["mariadb"].overrides(SNAP, ChartInput("a", "mariadb", "openstack", values))
    auth = out["endpoints"]["oslo_db"]["auth"]
    assert auth["a"] == auth["b"]
    names = {auth[k]["password"].name for k in ("a", "c")}
    assert all(re.fullmatch(r"sha256-[0-9a-f]{32}-db", n) for n in names) and len(names) == 2


def test_only_the_replicas_the_chart_version_has_are_scaled() -> None:
    old = {"pod": {"replicas": {"server": 1}}}  # neutron before its rpc_server
    out = PLUGINS["neutron"].overrides(SNAP, ChartInput("a", "neutron", "openstack", old))
    assert out["pod"]["replicas"] == {"server": 2}
    new = {"pod": {"replicas": {"server": 1, "rpc_server": 1}}}
    out = PLUGINS["neutron"].overrides(SNAP, ChartInput("a", "neutron", "openstack", new))
    assert out["pod"]["replicas"] == {"server": 2, "rpc_server": 2}
