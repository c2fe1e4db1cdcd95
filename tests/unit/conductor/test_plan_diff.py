"""The plan's diffs: values by key path, manifests object by object and field by field."""

from __future__ import annotations

from sysinv_conductor.plan.diff import (
    MASK,
    Change,
    ObjectKey,
    changes,
    has_path,
    manifest_changes,
    mask,
)

OLD = """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {GREETING: hello, COLOR: blue}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: other}
data: {password: b2xk, username: aGVsbG8=}
---
apiVersion: v1
kind: Service
metadata: {name: gone}
"""
NEW = """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {GREETING: hi, COLOR: blue, EXTRA: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: other}
data: {password: bmV3, username: aGVsbG8=}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {replicas: 2}
"""


def test_value_changes_are_leaves_by_key_path() -> None:
    old = {"a": {"b": 1, "c": [1, 2]}, "gone": {"x": 1}, "list": [{"k": "v"}]}
    new = {"a": {"b": 2, "c": [1, 3]}, "new": {"y": {"z": True}}, "list": [{"k": "w"}]}
    assert list(changes(old, new)) == [
        Change("a.b", 1, 2),
        Change("a.c[1]", 2, 3),
        Change("gone.x", 1, None),
        Change("list[0].k", "v", "w"),
        Change("new.y.z", None, True),
    ]
    assert [c.kind for c in changes({"a": 1, "b": 2}, {"b": 3, "c": 4})] == [
        "removed", "changed", "added",
    ]  # fmt: skip
    # A list of another length is one change: item by item would misalign it.
    assert list(changes({"l": [1]}, {"l": [1, 2]})) == [Change("l", [1], [1, 2])]
    assert list(changes({"same": {"x": [1]}}, {"same": {"x": [1]}})) == []


def test_has_path_and_mask() -> None:
    tree = {"a": {"b": [{"c": 1}]}}
    assert has_path(tree, "a.b[0].c") and has_path(tree, "a")
    assert not has_path(tree, "a.b[1].c") and not has_path(tree, "a.x") and not has_path(None, "a")
    assert mask({"k": ["user:pw-1@host", 3]}, ["pw-1"]) == {"k": [f"user:{MASK}@host", 3]}


def test_manifest_changes_object_by_object_secrets_masked() -> None:
    out = {(str(c.key), c.kind): c for c in manifest_changes(OLD, NEW, "ns", ["hi"])}
    assert set(out) == {
        ("ConfigMap ns/settings", "changed"),
        ("Secret other/creds", "changed"),
        ("Service ns/gone", "removed"),
        ("Deployment ns/web", "added"),
    }
    # A known secret value is masked wherever it appears.
    assert out[("ConfigMap ns/settings", "changed")].fields == (
        Change("data.EXTRA", None, "1"),
        Change("data.GREETING", "hello", MASK),
    )
    # A Secret's payload: which key changed, never its value, old or new.
    assert out[("Secret other/creds", "changed")].fields == (Change("data.password", MASK, MASK),)
    assert out[("Deployment ns/web", "added")].key == ObjectKey(
        "apps/v1", "Deployment", "ns", "web"
    )
    assert manifest_changes(OLD, OLD, "ns") == []
    assert {c.kind for c in manifest_changes(OLD, "", "ns")} == {"removed"}
