"""The Armada document model: strict loading, stable dumping and override documents."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

import bounded_yaml
from armada.schema import METADATA, SCHEMAS, describe

# Armada's own default when a chart gives no wait timeout (const.DEFAULT_CHART_TIMEOUT).
DEFAULT_WAIT_TIMEOUT = 900
# Armada's `helm test --timeout` when a chart gives no test.timeout (const.DEFAULT_TEST_TIMEOUT).
DEFAULT_TEST_TIMEOUT = 300
METADATA_SCHEMA = "metadata/Document/v1"


class ArmadaValidationError(Exception):
    """Every problem found in a document stream, one line each."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True)
class Chart:
    name: str
    chart_name: str
    release: str
    namespace: str
    values: dict[str, Any]
    source_location: str
    wait_timeout: int = DEFAULT_WAIT_TIMEOUT
    wait_labels: dict[str, str] = field(default_factory=dict)
    upgrade_pre_delete: list[dict[str, Any]] = field(default_factory=list)
    protected: bool = False
    #: The chart's own word on its helm tests: `test: <bool>` (v1) or `test.enabled`;
    #: None when it gives none, and then Armada's default holds (see ``test_enabled``).
    test: bool | None = None
    test_timeout: int = DEFAULT_TEST_TIMEOUT
    dependencies: list[str] = field(default_factory=list)
    schema_version: str = "v1"
    # The document's whole `data` section as loaded, so that fields the model does not
    # interpret (source.subpath, wait.resources, ...) survive a dump. Modelled fields above
    # take precedence over what is in here, and equality ignores it (a dump fills defaults).
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def test_enabled(self) -> bool:
        """Whether `helm test` runs after the release is installed or upgraded. Armada's
        default is yes: a chart with no `test` key, or one with no `enabled` in it, is
        tested (a v1 chart group's `test_charts` sets the default for its charts, which
        :func:`armada.plan.build_plan` applies); a chart without test hooks passes."""
        return True if self.test is None else self.test


@dataclass(frozen=True)
class ChartGroup:
    name: str
    description: str | None
    sequenced: bool
    charts: list[str]
    schema_version: str = "v1"
    #: v1's deprecated `test_charts`: the test default of the group's charts (None: unset).
    test_charts: bool | None = None


@dataclass(frozen=True)
class Manifest:
    name: str
    release_prefix: str
    chart_groups: list[str]
    schema_version: str = "v1"


@dataclass(frozen=True)
class DocumentSet:
    manifests: dict[str, Manifest]
    groups: dict[str, ChartGroup]
    charts: dict[str, Chart]

    def manifest(self, name: str | None = None) -> Manifest:
        if name is not None:
            if name not in self.manifests:
                known = ", ".join(sorted(self.manifests)) or "none"
                raise ArmadaValidationError([f'no manifest named "{name}" (have: {known})'])
            return self.manifests[name]
        if len(self.manifests) != 1:
            known = ", ".join(sorted(self.manifests)) or "none"
            raise ArmadaValidationError(
                [f"expected exactly one armada/Manifest document, found {known}; name one"]
            )
        return next(iter(self.manifests.values()))


# --- loading --------------------------------------------------------------------------


def _parse_stream(text: str) -> list[Any]:
    """The stream's documents, loaded within bounded_yaml's limits (aliases, depth)."""
    try:
        return [doc for doc in bounded_yaml.load_all(text) if doc is not None]
    except bounded_yaml.YAMLLimitError as exc:
        raise ArmadaValidationError([str(exc)]) from None
    except yaml.YAMLError as exc:
        raise ArmadaValidationError([f"invalid YAML: {exc}"]) from exc


def _label(doc: Any, index: int) -> str:
    schema = doc.get("schema") if isinstance(doc, Mapping) else None
    meta = doc.get("metadata") if isinstance(doc, Mapping) else None
    name = meta.get("name") if isinstance(meta, Mapping) else None
    schema_text = schema if isinstance(schema, str) else "document"
    if isinstance(name, str):
        return f'{schema_text} "{name}"'
    return f"{schema_text} #{index + 1}"


def _check_document(doc: Any, index: int) -> list[str]:
    """Shape errors of one document, already prefixed with the document's label."""
    label = _label(doc, index)
    if not isinstance(doc, Mapping):
        return [f"{label}: expected a mapping with schema, metadata and data"]
    errors: list[str] = []
    for key in doc:
        if key not in ("schema", "metadata", "data"):
            errors.append(f"{key}: unknown field")
    schema = doc.get("schema")
    if schema not in SCHEMAS:
        errors.append(f"schema: unknown document schema {describe(schema)}")
    if "metadata" not in doc:
        errors.append("metadata: required field is missing")
    else:
        METADATA.check(doc["metadata"], "metadata", errors)
    if "data" not in doc:
        errors.append("data: required field is missing")
    elif schema in SCHEMAS:
        SCHEMAS[schema][2].check(doc["data"], "data", errors)
    return [f"{label}: {e}" for e in errors]


def _chart_from(name: str, version: str, data: Mapping[str, Any]) -> Chart:
    source = data["source"]
    wait = data.get("wait", {})
    # v1 still honours the deprecated top-level `timeout`, as Armada did.
    timeout = wait.get("timeout", data.get("timeout", DEFAULT_WAIT_TIMEOUT))
    test, test_timeout = _test_setting(data.get("test"))
    pre_delete = data.get("upgrade", {}).get("pre", {}).get("delete", [])
    if version == "v1":
        chart_name = data["chart_name"]
    else:
        # v2 dropped chart_name: the chart is whatever the source points at.
        chart_name = source.get("subpath") or _archive_stem(source["location"]) or name
    return Chart(
        name=name,
        chart_name=chart_name,
        release=data["release"],
        namespace=data["namespace"],
        values=copy.deepcopy(dict(data.get("values", {}))),
        source_location=source["location"],
        wait_timeout=timeout,
        wait_labels=dict(wait.get("labels", {})),
        upgrade_pre_delete=[copy.deepcopy(dict(a)) for a in pre_delete],
        protected="protected" in data,
        test=test,
        test_timeout=test_timeout,
        dependencies=list(data.get("dependencies", [])),
        schema_version=version,
        raw=copy.deepcopy(dict(data)),
    )


def _test_setting(test: Any) -> tuple[bool | None, int]:
    """A chart's `test` as Armada's test handler reads it: a boolean (v1's deprecated form)
    is the setting itself; a non-empty mapping gives `enabled` (when not null) and
    `timeout`; anything else (no key, `{}`) says nothing."""
    if isinstance(test, bool):
        return test, DEFAULT_TEST_TIMEOUT
    if isinstance(test, Mapping) and test:
        enabled = test.get("enabled")
        timeout = test.get("timeout", DEFAULT_TEST_TIMEOUT)
        return (None if enabled is None else bool(enabled)), int(timeout)
    return None, DEFAULT_TEST_TIMEOUT


def _archive_stem(location: str) -> str:
    """Chart name from an archive name as `helm package` makes it: <name>-<version>.tgz."""
    base = os.path.basename(location.rstrip("/"))
    for suffix in (".tgz", ".tar.gz"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return re.sub(r"-v?\d+(\.\d+)*([-+][0-9A-Za-z.+-]*)?$", "", base) or base


def _dependency_cycles(charts: Mapping[str, Chart]) -> list[str]:
    errors: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in charts[name].dependencies:
            if dep not in charts:
                continue  # reported as a dangling reference
            if state.get(dep) == 1:
                cycle = [*path[path.index(dep) :], dep]
                chart = charts[cycle[0]]
                errors.append(
                    f'armada/Chart/{chart.schema_version} "{cycle[0]}": data.dependencies: '
                    f"dependency cycle {' -> '.join(cycle)}"
                )
            elif dep not in state:
                visit(dep, [*path, dep])
        state[name] = 2

    for name in charts:
        if name not in state:
            visit(name, [name])
    return errors


def load_documents(text: str) -> DocumentSet:
    """Parse and validate a stream; raise ArmadaValidationError listing every problem."""
    docs = _parse_stream(text)
    errors: list[str] = []
    manifests: dict[str, Manifest] = {}
    groups: dict[str, ChartGroup] = {}
    charts: dict[str, Chart] = {}
    broken: set[str] = set()
    if not docs:
        raise ArmadaValidationError(["no documents found"])
    for index, doc in enumerate(docs):
        problems = _check_document(doc, index)
        if problems:
            errors.extend(problems)
            # Remember the name so references to a broken document are not reported as
            # dangling too: one mistake, one error.
            meta = doc.get("metadata") if isinstance(doc, Mapping) else None
            if isinstance(meta, Mapping) and isinstance(meta.get("name"), str):
                broken.add(meta["name"])
            continue
        kind, version, _ = SCHEMAS[doc["schema"]]
        name = doc["metadata"]["name"]
        data = doc["data"]
        taken = {"Manifest": set(manifests), "ChartGroup": set(groups), "Chart": set(charts)}
        if name in taken[kind]:
            errors.append(f'{_label(doc, index)}: metadata.name: duplicate {kind} "{name}"')
            continue
        if kind == "Manifest":
            manifests[name] = Manifest(
                name, data["release_prefix"], list(data["chart_groups"]), version
            )
        elif kind == "ChartGroup":
            groups[name] = ChartGroup(
                name,
                data.get("description"),
                data.get("sequenced", False),
                list(data["chart_group"]),
                version,
                data.get("test_charts"),
            )
        else:
            charts[name] = _chart_from(name, version, data)

    # Every reference must name a document that exists (or one already reported broken).
    references = [
        ("Manifest", m.schema_version, m.name, "chart_groups", m.chart_groups, groups, "ChartGroup")
        for m in manifests.values()
    ] + [
        ("ChartGroup", g.schema_version, g.name, "chart_group", g.charts, charts, "Chart")
        for g in groups.values()
    ] + [
        ("Chart", c.schema_version, c.name, "dependencies", c.dependencies, charts, "Chart")
        for c in charts.values()
    ]  # fmt: skip
    for kind, version, name, key, refs, targets, target_kind in references:
        for i, ref in enumerate(refs):
            if ref not in targets and ref not in broken:
                errors.append(
                    f'armada/{kind}/{version} "{name}": data.{key}[{i}]: '
                    f'no armada/{target_kind} document named "{ref}"'
                )
    errors.extend(_dependency_cycles(charts))
    if not manifests and not errors:
        errors.append("no armada/Manifest document found")
    if errors:
        raise ArmadaValidationError(errors)
    return DocumentSet(manifests, groups, charts)


# --- dumping --------------------------------------------------------------------------


def _document(kind: str, version: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": f"armada/{kind}/{version}",
        "metadata": {"schema": METADATA_SCHEMA, "name": name},
        "data": data,
    }


def chart_data(chart: Chart, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The `data` section for a chart: its raw fields with the modelled ones laid on top."""
    data = copy.deepcopy(chart.raw)
    data["release"] = chart.release
    data["namespace"] = chart.namespace
    data["values"] = copy.deepcopy(dict(chart.values if values is None else values))
    if chart.schema_version == "v1":
        data["chart_name"] = chart.chart_name
    source = dict(data.get("source", {}))
    source["location"] = chart.source_location
    source.setdefault("type", "tar")
    if chart.schema_version == "v1":
        source.setdefault("subpath", chart.chart_name)
    data["source"] = source
    data.pop("timeout", None)  # folded into wait.timeout below
    wait = dict(data.get("wait", {}))
    wait["timeout"] = chart.wait_timeout
    if chart.wait_labels:
        wait["labels"] = dict(chart.wait_labels)
    else:
        wait.pop("labels", None)
    data["wait"] = wait
    upgrade = dict(data.get("upgrade", {}))
    pre = dict(upgrade.get("pre", {}))
    if chart.upgrade_pre_delete:
        pre["delete"] = copy.deepcopy(chart.upgrade_pre_delete)
    else:
        pre.pop("delete", None)
    if pre:
        upgrade["pre"] = pre
    else:
        upgrade.pop("pre", None)
    if upgrade:
        if chart.schema_version == "v1":
            upgrade.setdefault("no_hooks", False)
        data["upgrade"] = upgrade
    else:
        data.pop("upgrade", None)
    if chart.protected:
        data.setdefault("protected", {"continue_processing": False})
    else:
        data.pop("protected", None)
    # `test` only as far as the chart says something: with no word, Armada applies its
    # own default (tests on, or the v1 group's test_charts) as the model does.
    written = data.pop("test", None)
    test: dict[str, Any] = {}
    if isinstance(written, Mapping):
        test = {k: v for k, v in written.items() if k not in ("enabled", "timeout")}
    if chart.test is not None:
        test["enabled"] = chart.test
    if chart.test_timeout != DEFAULT_TEST_TIMEOUT or (
        isinstance(written, Mapping) and "timeout" in written
    ):
        test["timeout"] = chart.test_timeout
    if chart.schema_version == "v1" and isinstance(written, bool) and set(test) == {"enabled"}:
        data["test"] = test["enabled"]  # v1's boolean form, as written
    elif test:
        data["test"] = test
    data["dependencies"] = list(chart.dependencies)
    return data


def group_data(group: ChartGroup, charts: list[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"sequenced": group.sequenced}
    if group.description is not None:
        data["description"] = group.description
    if group.test_charts is not None:
        data["test_charts"] = group.test_charts
    data["chart_group"] = list(group.charts if charts is None else charts)
    return data


def manifest_data(manifest: Manifest, groups: list[str] | None = None) -> dict[str, Any]:
    return {
        "release_prefix": manifest.release_prefix,
        "chart_groups": list(manifest.chart_groups if groups is None else groups),
    }


def dump_stream(documents: list[dict[str, Any]]) -> str:
    return bounded_yaml.dump_all(documents, sort_keys=True, explicit_start=True)


def dump_documents(docs: DocumentSet) -> str:
    """Manifests, then chart groups, then charts, each sorted by name; keys sorted."""
    out: list[dict[str, Any]] = []
    for m in sorted(docs.manifests.values(), key=lambda d: d.name):
        out.append(_document("Manifest", m.schema_version, m.name, manifest_data(m)))
    for g in sorted(docs.groups.values(), key=lambda d: d.name):
        out.append(_document("ChartGroup", g.schema_version, g.name, group_data(g)))
    for c in sorted(docs.charts.values(), key=lambda d: d.name):
        out.append(_document("Chart", c.schema_version, c.name, chart_data(c)))
    return dump_stream(out)


# --- overrides ------------------------------------------------------------------------


def deep_merge(base: Any, override: Any) -> Any:
    """Armada's rule: mappings merge key by key; lists and scalars replace."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def apply_overrides(text: str, override_docs: list[dict[str, Any]]) -> str:
    """Merge override documents into the stream (matched by schema and metadata.name).

    The result is validated, so an override that breaks the manifest fails here rather
    than at apply time.
    """
    docs = _parse_stream(text)
    errors: list[str] = []
    for index, override in enumerate(override_docs):
        schema = override.get("schema") if isinstance(override, Mapping) else None
        meta = override.get("metadata") if isinstance(override, Mapping) else None
        name = meta.get("name") if isinstance(meta, Mapping) else None
        if not isinstance(schema, str) or not isinstance(name, str):
            errors.append(f"override #{index + 1}: needs schema and metadata.name")
            continue
        target = next(
            (
                d
                for d in docs
                if isinstance(d, dict)
                and d.get("schema") == schema
                and isinstance(d.get("metadata"), Mapping)
                and d["metadata"].get("name") == name
            ),
            None,
        )
        if target is None:
            errors.append(f'override #{index + 1}: no {schema} document named "{name}"')
            continue
        target["data"] = deep_merge(target.get("data", {}), override.get("data", {}))
    if errors:
        raise ArmadaValidationError(errors)
    result = bounded_yaml.dump_all(docs, sort_keys=False, explicit_start=True)
    load_documents(result)
    return result
