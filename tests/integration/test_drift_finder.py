"""The drift finder against the real API server: what it finds, and exactly how many
requests it makes for it (one list per namespace and kind, one GET per object the list
missed, discovery once per group version while it serves what is asked of it)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sysinv_conductor.drift.finder import ManifestCache, ReleaseRef, find
from sysinv_conductor.drift.live import LiveReader
from sysinv_conductor.kube.client import api_client

pytestmark = pytest.mark.kube

MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: same, labels: {app: demo, part: same}}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: gone, labels: {app: demo, part: gone}}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: relabelled, labels: {app: demo, part: relabelled}}
data: {a: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: edited, labels: {app: demo}}
stringData: {password: not-a-real-one}
---
apiVersion: widgets.example.com/v1
kind: Widget
metadata: {name: orphan}
spec: {size: 1}
"""


def test_one_list_per_kind_a_get_per_missing_object_and_what_each_is(kube_cluster: Any) -> None:
    ns = f"finder-{uuid.uuid4().hex[:6]}"
    core = kube_cluster.core_v1()
    core.create_namespace({"metadata": {"name": ns}})
    try:
        for name, labels in (("same", {"app": "demo", "part": "same"}),
                             ("relabelled", {"app": "other", "part": "relabelled"})):  # fmt: skip
            core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": labels},
                                                   "data": {"a": "1"}})  # fmt: skip
        core.create_namespaced_secret(ns, {"metadata": {"name": "edited",
                                                        "labels": {"app": "demo"}},
                                           "stringData": {"password": "changed"}})  # fmt: skip
        reads: list[tuple[str, str, int]] = []

        def manifest(release: str, namespace: str, revision: int) -> str:
            reads.append((release, namespace, revision))
            return MANIFEST

        reader = LiveReader(api_client(str(kube_cluster.kubeconfig)))
        cache = ManifestCache(manifest)
        refs = [ReleaseRef("demo-chart", "demo", ns, 3)]
        found = find(reader, cache, refs)
        assert [(o.key, o.state, o.fields) for o in found] == [
            (f"ConfigMap/{ns}/gone", "deleted", ()),
            # Missing from the labelled list, found by name: changed, not deleted.
            (f"ConfigMap/{ns}/relabelled", "changed", ("metadata.labels.app",)),
            (f"Secret/{ns}/edited", "changed", ("data.password",)),
            (f"Widget/{ns}/orphan", "deleted", ()),  # no such kind any more
        ]
        assert all(o.chart == "demo-chart" and o.release == "demo" for o in found)
        # discovery of v1 and of widgets.example.com/v1, a list of ConfigMaps and one of
        # Secrets, a GET each for the two ConfigMaps the list did not return.
        assert reader.requests == 6
        assert reads == [("demo", ns, 3)]

        before = reader.requests
        assert find(reader, cache, refs) == found
        # v1 known now; the missing group version is asked again (its CRD may come back).
        assert reader.requests - before == 5
        assert reads == [("demo", ns, 3)]  # the revision's manifest is read once
        cache.keep_only([])
        assert cache.entries == {}
    finally:
        core.delete_namespace(ns)
