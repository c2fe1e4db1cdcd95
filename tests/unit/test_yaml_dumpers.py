"""libyaml's emitter writes the very text PyYAML's pure-Python one writes, for the YAML the
service writes: the OpenStack application's values and manifest, every override plugin's
system overrides, and scalars a YAML reader could take for something else."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

import bounded_yaml
from helm_overrides.merge import coalesce
from helm_overrides.plugin import load_plugins
from helm_overrides.snapshot import ChartInput, HostView, ModelSnapshot
from sysinv_conductor.overrides.secrets import substitute
from tests.helm_charts.openstack_app import V1, V2, chart_values, manifest_documents
from tests.helm_charts.openstack_charts import ERAS, charts


def test_pyyaml_has_libyaml() -> None:
    """The comparison below needs both emitters; PyYAML's wheels bundle libyaml, so its
    absence is a broken install, not something to skip over."""
    assert yaml.__with_libyaml__, "PyYAML was built without libyaml (reinstall its wheel)"


# The options the service dumps with (grep bounded_yaml.dump).
OPTIONS: list[dict[str, Any]] = [
    {},
    {"sort_keys": True},
    {"sort_keys": False},
    {"default_flow_style": False, "sort_keys": True},
    {"default_flow_style": True, "width": 1 << 16},
    {"sort_keys": True, "explicit_start": True},
    {"sort_keys": False, "explicit_start": True},
]

TRICKY = [
    "y", "Y", "n", "N", "yes", "No", "on", "OFF", "true", "False", "null", "Null", "~", "",
    " ", " lead", "trail ", "a  b", "a: b", "a:b", "- x", "-", "#c", "a #b", "? x", ":", "|",
    ">", "@x", "`x", "%x", "!x", "&x", "*x", "[x]", "{x}", "'q'", '"d"', "a\\b", "<<", "=",
    "1", "-1", "0x1F", "0o17", "017", "1_000", "1e3", "1.5", ".inf", "-.Inf", ".nan",
    "12:30", "1:2:3", "2024-01-01", "2024-01-01T10:00:00Z", "multi\nline", "multi\nline\n",
    "\n", "tab\there", "\x00", "\x07", "\x85", "\u2028", "\ufeff", "é", "ü ä", "日本",
    "😀", "long words " * 30, "x" * 200, "http://h:80/p?q=1#f", "registry.local:9001/a:b",
]  # fmt: skip


def tricky_document() -> dict[Any, Any]:
    return {
        "scalars": TRICKY,
        "mapping": {s: s for s in TRICKY},
        "other": [None, True, False, 0, -7, 10**30, 1.5, -0.0, float("inf"), b"\x00\xff"],
        "empty": [{}, [], {"a": {}}, {"a": []}],
        1: "int key",
        "nested": [[["deep", {"k": [None]}]]],
    }


def snapshot() -> ModelSnapshot:
    views = [HostView(f"controller-{i}", "controller",
                      labels={"openstack-control-plane": "enabled"}) for i in range(2)]  # fmt: skip
    views += [HostView(f"worker-{i}", "worker", mgmt_ip=f"10.0.0.{i + 1}",
                       labels={"openstack-compute-node": "enabled"}) for i in range(3)]  # fmt: skip
    return ModelSnapshot("stx-openstack", "Standard", "duplex", "RegionOne", hosts=tuple(views),
                         registry_address="registry.local:9001")  # fmt: skip


def documents() -> dict[str, Any]:
    """Every document to compare, by a name for the failure message."""
    docs: dict[str, Any] = {"tricky": tricky_document()}
    for era in ERAS:
        for name, facts in charts(era).items():
            docs[f"values {era} {name}"] = chart_values(facts)
    for version in (V1, V2):
        for i, doc in enumerate(manifest_documents(version)):
            docs[f"manifest {version.era} #{i}"] = doc
    snap = snapshot()
    base = chart_values(next(iter(charts(ERAS[-1]).values())))
    for name, plugin in sorted(load_plugins().items()):
        if name in ("rbd-provisioner", "ceph-pools-audit"):
            continue  # they need a Ceph cluster the snapshot has none of
        system = plugin.overrides(snap, ChartInput("stx-openstack", name, plugin.namespaces[0],
                                                   base))  # fmt: skip
        docs[f"overrides {name}"] = coalesce(base, substitute(system, None))
    return docs


def pure(data: Any, **kwargs: Any) -> str:
    text: str = yaml.dump(data, Dumper=bounded_yaml._NoAliasDumper, **kwargs)
    return text


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_libyaml_writes_what_pure_python_writes(options: dict[str, Any]) -> None:
    assert bounded_yaml._FastDumper is not None
    docs = documents()
    assert len(docs) > 40
    for name, doc in docs.items():
        fast = yaml.dump(doc, Dumper=bounded_yaml._FastDumper, **options)
        assert fast == pure(doc, **options), name
        assert bounded_yaml.dump(doc, **options) == fast, name
    stream = list(docs.values())
    assert bounded_yaml.dump_all(stream, **options) == yaml.dump_all(
        stream, Dumper=bounded_yaml._NoAliasDumper, **options
    )


def test_the_two_emitters_differ_only_where_the_pure_one_is_kept() -> None:
    """libyaml ends no bare scalar document with ``...`` and, with ``allow_unicode``,
    escapes NEL and characters beyond the BMP: ``dump`` keeps Python's emitter there."""
    assert bounded_yaml._FastDumper is not None
    cases: list[tuple[Any, dict[str, Any]]] = [
        ("word", {}), ("two words", {}), ({"a": "😀\x85"}, {"allow_unicode": True}),
    ]  # fmt: skip
    for data, options in cases:
        fast = yaml.dump(data, Dumper=bounded_yaml._FastDumper, **options)
        assert fast != pure(data, **options)
        assert bounded_yaml.dump(data, **options) == pure(data, **options)
    assert bounded_yaml.dump_all([{"a": 1}, "x"]) == "a: 1\n--- x\n...\n"


def test_without_libyaml_the_same_text(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = tricky_document()
    fast = bounded_yaml.dump(doc, sort_keys=True)
    monkeypatch.setattr(bounded_yaml, "_FastDumper", None)
    assert bounded_yaml.dump(doc, sort_keys=True) == fast


def test_yaml_1_1_booleans_stay_strings_for_helm() -> None:
    """go-yaml v2 (Helm 3) reads bare y/n/on/off/yes/no as booleans: they are quoted."""
    words = ["y", "Y", "n", "N", "yes", "Yes", "NO", "on", "Off", "true", "FALSE"]
    data = {"words": words, "flags": [True, False], "gone": None}
    text = bounded_yaml.dump(data, sort_keys=False)
    for word in words:
        assert f"- '{word}'\n" in text
    assert "flags:\n- true\n- false\ngone: null\n" in text
    assert bounded_yaml.load(text) == data
    assert yaml.safe_load(text) == data
