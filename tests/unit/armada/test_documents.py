"""Strict loading, round trip and override documents."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from armada.documents import (
    DEFAULT_TEST_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT,
    ArmadaValidationError,
    DocumentSet,
    apply_overrides,
    dump_documents,
    load_documents,
)
from armada.plan import build_plan


def errors_of(text: str) -> list[str]:
    with pytest.raises(ArmadaValidationError) as info:
        load_documents(text)
    assert str(info.value) == "\n".join(info.value.errors)
    return info.value.errors


def edit(text: str, name: str, change: Any) -> str:
    """Apply `change(doc)` to the document called `name` and return the new stream."""
    docs = list(yaml.safe_load_all(text))
    for doc in docs:
        if doc["metadata"]["name"] == name:
            change(doc)
    return yaml.safe_dump_all(docs, sort_keys=False)


def test_loads_model(manifest_text: str) -> None:
    docs = load_documents(manifest_text)
    assert docs.manifest().release_prefix == "app"
    assert docs.groups["base"].sequenced and not docs.groups["workers"].sequenced
    assert docs.groups["workers"].description is None
    db = docs.charts["db"]
    assert (db.chart_name, db.release, db.namespace, db.wait_timeout) == (
        "mariadb",
        "db",
        "infra",
        60,
    )
    assert db.wait_labels == {"app": "db"}
    assert db.source_location.endswith("mariadb-1.0.0.tgz")
    web = docs.charts["web"]
    assert web.protected and web.test_enabled and web.dependencies == ["db"]
    assert web.upgrade_pre_delete == [{"type": "job", "labels": {"app": "web"}}]
    worker_a = docs.charts["worker-a"]
    assert worker_a.schema_version == "v2" and worker_a.chart_name == "worker"
    assert not worker_a.test_enabled and worker_a.wait_timeout == 30
    # v1's deprecated top-level timeout still counts; no timeout at all is Armada's default.
    assert docs.charts["worker-b"].wait_timeout == 45
    assert docs.charts["worker-c"].wait_timeout == DEFAULT_WAIT_TIMEOUT


def test_wrong_type_names_document_and_path(manifest_text: str) -> None:
    text = edit(manifest_text, "db", lambda d: d["data"]["wait"].update(timeout="abc"))
    assert errors_of(text) == [
        "armada/Chart/v1 \"db\": data.wait.timeout: expected an integer, got 'abc'"
    ]


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        (
            "db",
            lambda d: d["data"].update(relase="x"),
            'armada/Chart/v1 "db": data.relase: unknown field',
        ),
        (
            "db",
            lambda d: d["data"]["source"].update(branch="x"),
            'armada/Chart/v1 "db": data.source.branch: unknown field',
        ),
        (
            "db",
            lambda d: d["data"].pop("namespace"),
            'armada/Chart/v1 "db": data.namespace: required field is missing',
        ),
        (
            "worker-a",
            lambda d: d["data"].update(chart_name="worker"),  # v1 only
            'armada/Chart/v2 "worker-a": data.chart_name: unknown field',
        ),
        (
            "base",
            lambda d: d["data"].update(sequenced="yes"),
            "armada/ChartGroup/v1 \"base\": data.sequenced: expected a boolean, got 'yes'",
        ),
        (
            "app-manifest",
            lambda d: d["data"].pop("release_prefix"),
            'armada/Manifest/v1 "app-manifest": data.release_prefix: required field is missing',
        ),
        (
            "web",
            lambda d: d["data"]["upgrade"].pop("no_hooks"),
            'armada/Chart/v1 "web": data.upgrade.no_hooks: required field is missing',
        ),
        (
            "web",
            lambda d: d["data"]["upgrade"]["pre"]["delete"][0].pop("type"),
            'armada/Chart/v1 "web": data.upgrade.pre.delete[0].type: required field is missing',
        ),
        (
            "db",
            lambda d: d["data"]["wait"]["labels"].update(app=3),
            'armada/Chart/v1 "db": data.wait.labels.app: expected a string label value, got 3',
        ),
        (
            "db",
            lambda d: d["data"]["wait"].update(timeout=True),
            'armada/Chart/v1 "db": data.wait.timeout: expected an integer, got True',
        ),
        (
            "db",
            lambda d: d.update(extra=1),
            'armada/Chart/v1 "db": extra: unknown field',
        ),
        (
            "db",
            lambda d: d.update(schema="armada/Chart/v9"),
            "armada/Chart/v9 \"db\": schema: unknown document schema 'armada/Chart/v9'",
        ),
    ],
)
def test_shape_errors(manifest_text: str, name: str, change: Any, expected: str) -> None:
    assert errors_of(edit(manifest_text, name, change)) == [expected]


def test_dangling_references(manifest_text: str) -> None:
    text = edit(manifest_text, "app-manifest", lambda d: d["data"]["chart_groups"].append("gone"))
    text = edit(text, "workers", lambda d: d["data"]["chart_group"].append("nope"))
    text = edit(text, "web", lambda d: d["data"]["dependencies"].append("missing"))
    assert errors_of(text) == [
        'armada/Manifest/v1 "app-manifest": data.chart_groups[2]: '
        'no armada/ChartGroup document named "gone"',
        'armada/ChartGroup/v1 "workers": data.chart_group[3]: '
        'no armada/Chart document named "nope"',
        'armada/Chart/v1 "web": data.dependencies[1]: no armada/Chart document named "missing"',
    ]


def test_dependency_cycle(manifest_text: str) -> None:
    text = edit(manifest_text, "db", lambda d: d["data"].update(dependencies=["web"]))
    (error,) = errors_of(text)
    assert "dependency cycle" in error and "db -> web -> db" in error


def test_duplicate_names(manifest_text: str) -> None:
    dup = manifest_text + (
        "---\nschema: armada/Chart/v2\nmetadata: {name: db}\n"
        "data: {release: x, namespace: y, source: {type: tar, location: /x.tgz}}\n"
    )
    assert errors_of(dup) == ['armada/Chart/v2 "db": metadata.name: duplicate Chart "db"']


def test_all_errors_reported_and_broken_docs_not_dangling(manifest_text: str) -> None:
    text = edit(manifest_text, "db", lambda d: d["data"].update(release=5))
    text = edit(text, "web", lambda d: d["data"].update(values=[1]))
    errors = errors_of(text)
    assert errors == [
        'armada/Chart/v1 "db": data.release: expected a string, got 5',
        'armada/Chart/v1 "web": data.values: expected a mapping, got [1]',
    ]


def test_bad_yaml_and_empty() -> None:
    assert errors_of("a: [")[0].startswith("invalid YAML")
    assert errors_of("") == ["no documents found"]
    assert errors_of("- 1\n") == ["document #1: expected a mapping with schema, metadata and data"]


def test_manifest_selection(manifest_text: str) -> None:
    two = edit(manifest_text, "app-manifest", lambda d: None) + (
        "---\nschema: armada/Manifest/v2\nmetadata: {name: other}\n"
        "data: {release_prefix: o, chart_groups: [base]}\n"
    )
    docs = load_documents(two)
    assert docs.manifest("other").release_prefix == "o"
    with pytest.raises(ArmadaValidationError):
        docs.manifest()
    with pytest.raises(ArmadaValidationError):
        docs.manifest("nope")


def test_round_trip_is_stable(manifest_text: str) -> None:
    docs = load_documents(manifest_text)
    text = dump_documents(docs)
    again = load_documents(text)
    assert again == docs
    assert dump_documents(again) == text
    # Fields the model does not interpret survive.
    assert "subpath: mariadb" in text and "type: deployment" in text
    assert isinstance(docs, DocumentSet)


def test_overrides_merge_dicts_replace_lists(manifest_text: str) -> None:
    out = apply_overrides(
        manifest_text,
        [
            {
                "schema": "armada/Chart/v1",
                "metadata": {"schema": "metadata/Document/v1", "name": "web"},
                "data": {
                    "values": {"image": {"pull": "Always"}, "hosts": ["c"]},
                    "namespace": "n2",
                },
            },
            {
                "schema": "armada/Manifest/v1",
                "metadata": {"name": "app-manifest"},
                "data": {"release_prefix": "t1"},
            },
        ],
    )
    docs = load_documents(out)
    web = docs.charts["web"]
    assert web.values == {"image": {"tag": "1.0", "pull": "Always"}, "hosts": ["c"]}
    assert web.namespace == "n2"
    assert docs.manifest().release_prefix == "t1"
    assert docs.charts["db"] == load_documents(manifest_text).charts["db"]


def test_override_errors(manifest_text: str) -> None:
    with pytest.raises(ArmadaValidationError, match='no armada/Chart/v1 document named "x"'):
        apply_overrides(
            manifest_text, [{"schema": "armada/Chart/v1", "metadata": {"name": "x"}, "data": {}}]
        )
    # An override that breaks the schema fails loudly too.
    with pytest.raises(ArmadaValidationError, match=r"data\.wait\.timeout"):
        apply_overrides(
            manifest_text,
            [
                {
                    "schema": "armada/Chart/v1",
                    "metadata": {"name": "db"},
                    "data": {"wait": {"timeout": "x"}},
                }
            ],
        )


def bomb_values(levels: int, width: int = 10) -> str:
    """A chart's values with ``levels`` of aliases, each a list of ``width`` of the last."""
    lines = ["  values:", "    l0: &l0 [" + ",".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"    l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


DB_VALUES = "  values: {replicas: 1, auth: {user: app, password: secret}}\n"


def test_alias_bomb_in_chart_values_is_refused_at_once(manifest_text: str) -> None:
    assert DB_VALUES in manifest_text
    text = manifest_text.replace(DB_VALUES, bomb_values(6))
    started = time.monotonic()
    assert errors_of(text) == ["YAML aliases expand to more than 10000 nodes"]
    override = [{"schema": "armada/Chart/v1", "metadata": {"name": "db"}, "data": {}}]
    with pytest.raises(ArmadaValidationError, match="aliases expand to more than 10000"):
        apply_overrides(text, override)
    assert time.monotonic() - started < 2


def test_deep_or_huge_documents_are_refused(manifest_text: str) -> None:
    assert errors_of("a: " + "[" * 100_000) == ["YAML is nested more than 64 levels deep"]
    deep = "  values: {a: " + "[" * 70 + "]" * 70 + "}\n"
    assert errors_of(manifest_text.replace(DB_VALUES, deep)) == [
        "YAML is nested more than 64 levels deep"
    ]
    huge = "  values: {a: " + "9" * 5000 + "}\n"
    errors = errors_of(manifest_text.replace(DB_VALUES, huge))
    assert len(errors) == 1 and errors[0].startswith("YAML integer has more than 1000 digits")


def test_anchors_within_the_limits_load_and_dump_without_aliases(manifest_text: str) -> None:
    text = manifest_text.replace(DB_VALUES, bomb_values(2) + "    both: [*l1, *l1]\n")
    docs = load_documents(text)
    assert docs.charts["db"].values["l2"][0][0] == ["lol"] * 10
    for out in (dump_documents(docs), apply_overrides(text, [])):
        assert "&" not in out and "*" not in out
        assert load_documents(out).charts["db"].values == docs.charts["db"].values


CHART_V1 = """\
---
schema: armada/Manifest/v1
metadata: {name: m}
data: {release_prefix: p, chart_groups: [g]}
---
schema: armada/ChartGroup/v1
metadata: {name: g}
data: {chart_group: [c]}
---
schema: armada/Chart/v1
metadata: {name: c}
data:
  chart_name: c
  release: c
  namespace: n
  source: {type: tar, location: /charts/c-0.1.0.tgz, subpath: c}
"""


def with_test(text: str, kind: str, test: Any) -> str:
    """``text`` with the chart's `test` set (or left out when ``test`` is ...)."""

    def change(doc: dict[str, Any]) -> None:
        doc["schema"] = f"armada/Chart/{kind}"
        if kind == "v2":
            doc["data"].pop("chart_name")
            doc["data"]["source"].pop("subpath")
        if test is not ...:
            doc["data"]["test"] = test

    return edit(text, "c", change)


@pytest.mark.parametrize(
    ("kind", "test", "setting", "enabled", "timeout"),
    [
        # Armada's default: a chart that says nothing is tested.
        ("v1", ..., None, True, DEFAULT_TEST_TIMEOUT),
        ("v2", ..., None, True, DEFAULT_TEST_TIMEOUT),
        # v1's deprecated boolean form.
        ("v1", True, True, True, DEFAULT_TEST_TIMEOUT),
        ("v1", False, False, False, DEFAULT_TEST_TIMEOUT),
        # test.enabled, in v1 and v2.
        ("v1", {"enabled": False}, False, False, DEFAULT_TEST_TIMEOUT),
        ("v2", {"enabled": False}, False, False, DEFAULT_TEST_TIMEOUT),
        ("v2", {"enabled": True, "timeout": 60}, True, True, 60),
        # A mapping without `enabled` keeps the default; `{}` says nothing at all.
        ("v2", {"timeout": 42}, None, True, 42),
        ("v1", {"options": {"cleanup": True}}, None, True, DEFAULT_TEST_TIMEOUT),
        ("v2", {}, None, True, DEFAULT_TEST_TIMEOUT),
    ],
)
def test_chart_test_setting_as_armada_reads_it(
    kind: str, test: Any, setting: bool | None, enabled: bool, timeout: int
) -> None:
    chart = load_documents(with_test(CHART_V1, kind, test)).charts["c"]
    assert (chart.test, chart.test_enabled, chart.test_timeout) == (setting, enabled, timeout)
    # The dump says what the chart said, no more: Armada's own default reads it alike.
    dumped = dump_documents(load_documents(with_test(CHART_V1, kind, test)))
    assert load_documents(dumped).charts["c"] == chart
    if test is ... or test == {}:
        assert "test" not in dumped


@pytest.mark.parametrize(
    ("kind", "test", "error"),
    [
        ("v2", True, "data.test: expected a mapping, got True"),
        ("v1", "yes", "data.test: expected a boolean or a mapping, got 'yes'"),
        ("v1", {"enabled": None}, "data.test.enabled: expected a boolean, got None"),
        ("v2", {"enabled": "no"}, "data.test.enabled: expected a boolean, got 'no'"),
        ("v2", {"timeout": "5m"}, "data.test.timeout: expected an integer, got '5m'"),
        ("v2", {"enable": False}, "data.test.enable: unknown field"),
        # Armada's v1 `test_enabled` is its handler's variable, never a document key.
        ("v1", {"test_enabled": False}, "data.test.test_enabled: unknown field"),
    ],
)
def test_chart_test_setting_refused(kind: str, test: Any, error: str) -> None:
    assert errors_of(with_test(CHART_V1, kind, test)) == [f'armada/Chart/{kind} "c": {error}']


def test_v1_group_test_charts_is_the_default_its_charts_may_override() -> None:
    def group(test_charts: bool) -> Any:
        return lambda d: d["data"].update(test_charts=test_charts)

    off = edit(CHART_V1, "g", group(False))
    docs = load_documents(off)
    assert docs.groups["g"].test_charts is False
    assert docs.charts["c"].test is None  # the chart itself says nothing
    (planned,) = build_plan(docs, Path("/charts")).charts
    assert not planned.chart.test_enabled
    # The chart's own word wins over the group's.
    for test, expected in ((True, True), ({"enabled": True}, True), ({"timeout": 5}, False)):
        docs = load_documents(with_test(off, "v1", test))
        (planned,) = build_plan(docs, Path("/charts")).charts
        assert planned.chart.test_enabled is expected, test
    (planned,) = build_plan(load_documents(edit(CHART_V1, "g", group(True))), Path("/c")).charts
    assert planned.chart.test_enabled
    # test_charts survives a dump; ChartGroup/v2 has no such key.
    assert "test_charts: false" in dump_documents(load_documents(off))
    v2 = off.replace("armada/ChartGroup/v1", "armada/ChartGroup/v2")
    assert errors_of(v2) == ['armada/ChartGroup/v2 "g": data.test_charts: unknown field']
