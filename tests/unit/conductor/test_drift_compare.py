"""Drift comparison: only the fields a manifest set count, compared as the API server
stores them; manifests parsed as helm gives them; the CLI's summary of a finding."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from sysinv_client.commands.apps import drift_summary
from sysinv_common.apps import BundleError
from sysinv_common.apps.metadata import parse_metadata
from sysinv_conductor.drift.compare import changed_fields, quantity
from sysinv_conductor.drift.finder import common_labels
from sysinv_conductor.manifests import parse_manifest

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {"name": "web", "image": "busybox:1.36",
                     "ports": [{"name": "http", "containerPort": 8080}],
                     "resources": {"limits": {"cpu": "1000m", "memory": "1Gi"}}},
                    {"name": "side", "image": "busybox:1.36"},
                ],
                "volumes": [{"name": "page", "emptyDir": {}}],
            },
        },
    },
}  # fmt: skip


def live_of(manifest: dict[str, Any]) -> dict[str, Any]:
    """The object as the API server gives it back: defaults and its own fields added."""
    live = copy.deepcopy(manifest)
    live["metadata"].update(
        namespace="ns", uid="u-1", resourceVersion="42", generation=3,
        annotations={"meta.helm.sh/release-name": "web", "deployment.kubernetes.io/revision": "1"},
        managedFields=[{"manager": "helm"}],
    )  # fmt: skip
    spec = live["spec"]
    spec.update(revisionHistoryLimit=10, progressDeadlineSeconds=600,
                strategy={"type": "RollingUpdate"})  # fmt: skip
    pod = spec["template"]["spec"]
    pod.update(restartPolicy="Always", dnsPolicy="ClusterFirst", schedulerName="default")
    web = pod["containers"][0]
    web["ports"][0]["protocol"] = "TCP"
    web["terminationMessagePath"] = "/dev/termination-log"
    web["resources"]["limits"]["cpu"] = "1"  # the API server's canonical form of 1000m
    pod["containers"].reverse()  # matched by name, not position
    live["status"] = {"replicas": 2, "readyReplicas": 2}
    return live


def test_what_the_cluster_fills_in_or_defaults_is_not_drift() -> None:
    assert changed_fields(DEPLOYMENT, live_of(DEPLOYMENT)) == []


def test_changed_fields_are_named_by_path() -> None:
    live = live_of(DEPLOYMENT)
    live["spec"]["replicas"] = 5
    live["metadata"]["labels"]["tier"] = "back"
    (web,) = [c for c in live["spec"]["template"]["spec"]["containers"] if c["name"] == "web"]
    web["image"] = "busybox:latest"
    web["resources"]["limits"]["memory"] = "512Mi"
    assert changed_fields(DEPLOYMENT, live) == [
        "metadata.labels.tier",
        "spec.replicas",
        "spec.template.spec.containers[web].image",
        "spec.template.spec.containers[web].resources.limits.memory",
    ]


def test_removed_and_added_elements_and_fields() -> None:
    live = live_of(DEPLOYMENT)
    pod = live["spec"]["template"]["spec"]
    pod["containers"] = [c for c in pod["containers"] if c["name"] != "side"]
    pod["volumes"].append({"name": "extra", "emptyDir": {}})
    del live["spec"]["selector"]
    assert changed_fields(DEPLOYMENT, live) == [
        "spec.selector",
        "spec.template.spec.containers[side]",
        "spec.template.spec.volumes",
    ]


def test_secret_string_data_is_compared_as_the_data_it_becomes() -> None:
    manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                "stringData": {"password": "hunter2"}}  # fmt: skip
    stored = base64.b64encode(b"hunter2").decode()
    live = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "type": "Opaque", "data": {"password": stored}}  # fmt: skip
    assert changed_fields(manifest, live) == []
    live["data"]["password"] = base64.b64encode(b"changed").decode()
    fields = changed_fields(manifest, live)
    assert fields == ["data.password"]  # the path only: never the value
    assert "hunter2" not in repr(fields)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [("1000m", "1", True), ("1Gi", "1024Mi", True), ("0.5", "500m", True), (2, "2", True),
     ("1G", "1Gi", False), ("abc", "abc", True), ("abc", "abd", False), (True, 1, False)],
)  # fmt: skip
def test_quantities_compare_by_value(a: Any, b: Any, same: bool) -> None:
    assert (changed_fields({"x": a}, {"x": b}) == []) is same


def test_quantity_parsing() -> None:
    assert quantity("250m") == quantity("0.25")
    assert quantity("hello") is None and quantity(None) is None and quantity(True) is None


def test_null_and_empty_values_are_what_the_chart_left_unset() -> None:
    manifest = {"spec": {"a": None, "b": {}, "c": [], "d": "x"}}
    assert changed_fields(manifest, {"spec": {"d": "x"}}) == []
    assert changed_fields(manifest, {"spec": {}}) == ["spec.d"]
    assert changed_fields(manifest, {}) == ["spec"]


def test_manifests_as_helm_gives_them() -> None:
    text = """---
# Source: web/templates/a.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: a, labels: {app: web, part: a}}
---
# an empty document (a template whose condition was false)
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b, labels: {app: web, part: b}}}
  - {kind: ConfigMap}
"""
    objects = parse_manifest(text)
    assert [o["metadata"]["name"] for o in objects] == ["a", "b"]
    assert common_labels(objects) == "app=web"
    assert common_labels([*objects, {"metadata": {"name": "c"}}]) == ""


def test_the_opt_out_is_a_list_of_charts_under_behavior() -> None:
    text = "app_name: a\napp_version: v1\nbehavior:\n  drift_ignore_charts: [web, db]\n"
    assert parse_metadata(text).drift_ignore_charts == ("web", "db")
    assert parse_metadata("app_name: a\napp_version: v1\n").drift_ignore_charts == ()
    with pytest.raises(BundleError, match="drift_ignore_charts must be a list of chart names"):
        parse_metadata("app_name: a\napp_version: v1\nbehavior:\n  drift_ignore_charts: web\n")


def test_the_cli_summary_names_each_object() -> None:
    assert drift_summary(None) == "not audited"
    clean = {"drifted": False, "since": None, "checked_at": "T2", "error": None, "objects": []}
    assert drift_summary(clean) == "none (checked T2)"
    found = {
        "drifted": True, "since": "T0", "checked_at": "T2", "error": None,
        "objects": [
            {"chart": "web", "kind": "Deployment", "namespace": "ns", "name": "web",
             "state": "changed", "fields": ["spec.replicas"], "since": "T0"},
            {"chart": "cfg", "kind": "ConfigMap", "namespace": "ns", "name": "cfg",
             "state": "deleted", "fields": [], "since": "T1"},
        ],
    }  # fmt: skip
    assert drift_summary(found).splitlines() == [
        "2 object(s) since T0 (checked T2)",
        "Deployment/ns/web (web): spec.replicas since T0",
        "ConfigMap/ns/cfg (cfg): deleted since T1",
    ]
