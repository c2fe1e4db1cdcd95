"""Every override plugin on All-in-one simplex, duplex and Standard systems built through
the API, on SQLite and PostgreSQL; the results rendered into charts with ``helm template``.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helm_charts.key_paths import unknown_paths
from tests.helm_charts.mini_app import (
    APP_NAME,
    CHART_NAMES,
    OVS,
    PLATFORM_SELECTOR,
    PLUGIN_CHARTS,
    build_mini_app,
    chart_source,
    write_sources,
)
from tests.helm_charts.topologies import (
    MONITORS,
    REGISTRY,
    TOPOLOGIES,
    Topology,
    build_hosts,
    configured_ceph,
    mgmt_ip,
    topology_settings,
)
from tests.servers.helm import HelmBinary
from tests.stack import Stack, running_stack, wait_done

CONTROL_KEY, COMPUTE_KEY = "openstack-control-plane", "openstack-compute-node"


@pytest.fixture(scope="module")
def mini(helm3: HelmBinary, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("mini")
    return build_mini_app(helm3, tmp), tmp


@pytest.fixture(
    scope="module",
    params=[(db, t) for db in ("sqlite", "postgres") for t in TOPOLOGIES],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def system(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    helm3: HelmBinary,
    mini: tuple[Path, Path],
) -> Iterator[tuple[Stack, Topology]]:
    db, name = request.param
    topo = TOPOLOGIES[name]
    url = None
    if db == "postgres":
        # A database per system: each is bootstrapped once, with its own type and mode.
        server = request.getfixturevalue("postgres_server")
        dbname, url = server.create_database()
        request.addfinalizer(lambda: server.drop_database(dbname))
    settings = topology_settings(tmp_path_factory.mktemp(name), topo, url, str(helm3.path))
    with running_stack(settings) as stack:
        build_hosts(stack, topo)
        # The replication sysinv gives its pools: one copy per controller here.
        configured_ceph(stack, replication=len(topo.controllers))
        bundle = mini[0]
        r = stack.client.post("/v1/apps", json={
            "tarfile": bundle.name,
            "binary_data": base64.urlsafe_b64encode(bundle.read_bytes()).decode(),
        })  # fmt: skip
        assert r.status_code == 200, r.text
        assert wait_done(stack, APP_NAME)["status"] == "uploaded"
        yield stack, topo


def show(stack: Stack, chart: str, namespace: str, secrets: bool = False) -> dict[str, Any]:
    r = stack.client.get(
        f"/v1/helm_charts/{APP_NAME}",
        params={"name": chart, "namespace": namespace, "show_secrets": str(secrets)},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def namespaces(stack: Stack) -> dict[str, str]:
    r = stack.client.get("/v1/helm_charts/", params={"app_name": APP_NAME})
    assert r.status_code == 200, r.text
    charts = r.json()["charts"]
    assert all(c["enabled"] == [True] for c in charts)
    return {c["name"]: c["namespaces"][0] for c in charts}


def test_every_plugin_follows_the_topology(system: tuple[Stack, Topology]) -> None:
    stack, topo = system
    charts = namespaces(stack)
    assert set(charts) == CHART_NAMES
    for chart, ns in sorted(charts.items()):
        shown = show(stack, chart, ns)
        assert shown["attributes"] == "enabled: true\n"
        assert shown["user_overrides"] is None
        values = yaml.safe_load(shown["system_overrides"])
        assert yaml.safe_load(shown["combined_overrides"]) == values
        if chart in PLUGIN_CHARTS:
            assert unknown_paths(chart, values) == [], chart
        else:
            # No plugin: the images are all sysinv changes.
            assert set(values) == {"images"}, chart
            assert shown["system_overrides_note"] == f"no override plugin for chart {chart}"

        for component, count in values.get("pod", {}).get("replicas", {}).items():
            assert count == topo.replicas, (chart, component)
        # Placement is the application's: no plugin writes a node selector.
        assert "labels" not in values and "nodeSelector" not in values, chart
        assert "nodeSelector" not in values.get("global", {}), chart
        tags = values.get("images", {}).get("tags", {})
        assert tags and all(ref.startswith(f"{REGISTRY}/") for ref in tags.values()), chart
        auth = values.get("endpoints", {}).get("identity", {}).get("auth", {})
        for user, creds in auth.items():
            assert creds["region_name"] == "RegionOne", (chart, user)
            assert creds["password"] == "******", (chart, user)

    nova = yaml.safe_load(show(stack, "nova", "openstack")["system_overrides"])
    per_host = nova["conf"]["overrides"]["nova_compute"]["hosts"]
    assert [h["name"] for h in per_host] == topo.computes
    assert all(h["conf"]["nova"]["DEFAULT"]["my_ip"] == mgmt_ip(h["name"]) for h in per_host)

    rbd = yaml.safe_load(show(stack, "rbd-provisioner", "kube-system")["system_overrides"])
    assert rbd["classdefaults"]["monitors"] == MONITORS
    assert rbd["global"]["replicas"] == topo.replicas
    assert rbd["classes"][0]["replication"] == (1 if topo.name == "aio-simplex" else 2)
    audit = yaml.safe_load(show(stack, "ceph-pools-audit", "kube-system")["system_overrides"])
    assert audit["conf"]["ceph"]["monitors"] == MONITORS


def test_overrides_land_where_the_charts_read_them(
    system: tuple[Stack, Topology], helm3: HelmBinary, tmp_path: Path
) -> None:
    stack, topo = system
    root = tmp_path / "charts"
    write_sources(root / "mini-src")  # the charts' sources, as packaged in the bundle
    passwords: dict[str, set[str]] = {}
    for chart, ns in sorted(namespaces(stack).items()):
        shown = show(stack, chart, ns, secrets=True)
        combined = tmp_path / f"{chart}.yaml"
        combined.write_text(shown["combined_overrides"])
        combined.chmod(0o600)
        out = subprocess.run(
            [str(helm3.path), "template", chart, str(chart_source(root, chart)),
             "-f", str(combined)],
            capture_output=True, text=True, env=helm3.env(tmp_path / "home"), check=True,
        ).stdout  # fmt: skip
        objects = [d for d in yaml.safe_load_all(out) if d]
        for obj in objects:
            if obj["kind"] == "Deployment":
                spec = obj["spec"]
                # A chart without a plugin keeps its values.yaml's one replica.
                replicas = topo.replicas if chart in PLUGIN_CHARTS else 1
                assert spec["replicas"] == replicas, (chart, obj["metadata"]["name"])
                pod = spec["template"]["spec"]
                assert pod["containers"][0]["image"].startswith(f"{REGISTRY}/")
                if chart == "rbd-provisioner":
                    # StarlingX's chart's own selector, nothing merged into it.
                    assert pod["nodeSelector"] == PLATFORM_SELECTOR
                else:
                    assert pod["nodeSelector"] == {CONTROL_KEY: "enabled"}
            elif obj["kind"] == "Secret":
                for key, value in obj["stringData"].items():
                    assert value not in ("password", "******") and len(value) >= 24
                    passwords.setdefault(key, set()).add(value)
            elif obj["kind"] == "StorageClass":
                assert obj["parameters"]["monitors"] == ",".join(MONITORS)
                assert obj["parameters"]["pool"] == "kube-rbd"
            elif obj["kind"] == "ConfigMap" and chart == "nova":
                data = obj["data"]
                assert data["label_agent_compute"] == f"{COMPUTE_KEY}=enabled"
                assert {k: v for k, v in data.items() if k.startswith("host_")} == {
                    f"host_{h}": mgmt_ip(h) for h in topo.computes
                }
                assert data["dep_check_image"] == (
                    f"{REGISTRY}/quay.io/airshipit/kubernetes-entrypoint:v1.0.0"
                )
            elif obj["kind"] == "ConfigMap" and chart == "ceph-pools-audit":
                assert obj["data"]["monitors"] == ",".join(MONITORS)
                assert json.loads(obj["data"]["node_selector"]) == PLATFORM_SELECTOR
            elif obj["kind"] == "ConfigMap" and chart == "neutron":
                # StarlingX's placement: the dhcp agent on compute nodes, beside the OVS
                # agent on openvswitch nodes.
                assert obj["data"]["label_agent_dhcp"] == f"{COMPUTE_KEY}=enabled"
                assert obj["data"]["label_ovs"] == f"{OVS}=enabled"
            elif obj["kind"] == "ConfigMap" and chart == "openvswitch":
                assert obj["data"]["label_ovs"] == f"{OVS}=enabled"
    # One keystone admin password, whichever chart reads it.
    assert len(passwords["identity_auth_admin"]) == 1
    assert len(passwords["identity_auth_nova"]) == 1
    # One MariaDB root password, and one for nova's user, in each of nova's databases.
    assert len(passwords["oslo_db_auth_admin"] | passwords["oslo_db_cell0_auth_admin"]) == 1
    assert passwords["oslo_db_auth_nova"] == passwords["oslo_db_cell0_auth_nova"]
