"""Finding drift: the objects of deployed releases against the live ones, with no database.

For each release revision, the objects of its manifest (``helm get manifest``, read once
per revision and kept: a revision's manifest never changes). The live objects are read
with one list per (namespace, kind) for all the releases at once, narrowed by the labels
every object of that group carries in its manifest; an object that list does not return
is asked for by name, so that a changed label reads as a changed label, not a deletion.
The cost is one request per (namespace, kind), plus one per object missing from its list,
plus one discovery request per API group version for the reader's life.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sysinv_conductor.drift.compare import changed_fields
from sysinv_conductor.drift.live import LiveReader, Resource, UnknownKind
from sysinv_conductor.manifests import parse_manifest

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReleaseRef:
    """A deployed release revision, and the chart (Armada document name) it deploys."""

    chart: str
    release: str
    namespace: str
    revision: int


@dataclass(frozen=True)
class ObjectDrift:
    """One object not as its release deployed it: ``deleted``, or these ``fields``
    changed."""

    chart: str
    release: str
    api_version: str
    kind: str
    namespace: str | None
    name: str
    state: str
    fields: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{where}{self.name}"


@dataclass(frozen=True)
class Desired:
    ref: ReleaseRef
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.manifest["metadata"]["name"])


#: Reads a release revision's manifest: (release, namespace, revision) -> YAML text.
ManifestSource = Callable[[str, str, int], str]


@dataclass
class ManifestCache:
    """Manifests by (namespace, release, revision); entries of revisions no longer asked
    for are dropped by :meth:`keep_only`."""

    source: ManifestSource
    entries: dict[tuple[str, str, int], list[dict[str, Any]]] = field(default_factory=dict)
    reads: int = 0

    def objects(self, ref: ReleaseRef) -> list[dict[str, Any]]:
        key = (ref.namespace, ref.release, ref.revision)
        if key not in self.entries:
            self.reads += 1
            self.entries[key] = parse_manifest(self.source(ref.release, ref.namespace,
                                                           ref.revision))  # fmt: skip
        return self.entries[key]

    def keep_only(self, refs: Iterable[ReleaseRef]) -> None:
        wanted = {(r.namespace, r.release, r.revision) for r in refs}
        for key in list(self.entries):
            if key not in wanted:
                del self.entries[key]


def common_labels(manifests: Iterable[dict[str, Any]]) -> str:
    """A label selector every manifest matches (the labels all of them set alike), or ""."""
    shared: dict[str, str] | None = None
    for m in manifests:
        labels = (m.get("metadata") or {}).get("labels") or {}
        pairs = {str(k): str(v) for k, v in labels.items() if isinstance(v, str | int)}
        shared = pairs if shared is None else {k: v for k, v in shared.items()
                                               if pairs.get(k) == v}  # fmt: skip
        if not shared:
            return ""
    return ",".join(f"{k}={v}" for k, v in sorted((shared or {}).items()))


def find(reader: LiveReader, cache: ManifestCache, refs: Iterable[ReleaseRef]) -> list[ObjectDrift]:
    """The drift of the objects of ``refs``' manifests, by object key."""
    groups: dict[tuple[str, str, str | None], list[Desired]] = {}
    resources: dict[tuple[str, str], Resource] = {}
    unknown: set[tuple[str, str]] = set()
    out: list[ObjectDrift] = []
    for ref in refs:
        for manifest in cache.objects(ref):
            api_version, kind = str(manifest["apiVersion"]), str(manifest["kind"])
            res = resources.get((api_version, kind))
            if res is None and (api_version, kind) not in unknown:
                try:
                    res = reader.resource(api_version, kind)
                except UnknownKind:
                    unknown.add((api_version, kind))  # once a round: discovery is a request
            if res is None:
                # Not served at all (its CRD is gone): every object of it is gone too.
                out.append(ObjectDrift(ref.chart, ref.release, api_version, kind,
                                       manifest["metadata"].get("namespace") or ref.namespace,
                                       str(manifest["metadata"]["name"]), "deleted"))  # fmt: skip
                continue
            resources[(api_version, kind)] = res
            ns = (
                (manifest["metadata"].get("namespace") or ref.namespace) if res.namespaced else None
            )
            groups.setdefault((api_version, kind, ns), []).append(Desired(ref, manifest))
    for (api_version, kind, ns), wanted in sorted(groups.items(), key=lambda g: str(g[0])):
        res = resources[(api_version, kind)]
        live = reader.list(res, ns, common_labels(d.manifest for d in wanted))
        for d in wanted:
            obj = live.get(d.name)
            if obj is None:
                obj = reader.get(res, ns, d.name)  # not listed: deleted, or its labels changed
            if obj is None:
                out.append(ObjectDrift(d.ref.chart, d.ref.release, api_version, kind, ns,
                                       d.name, "deleted"))  # fmt: skip
                continue
            fields = changed_fields(d.manifest, obj)
            if fields:
                out.append(ObjectDrift(d.ref.chart, d.ref.release, api_version, kind, ns,
                                       d.name, "changed", tuple(fields)))  # fmt: skip
    return sorted(out, key=lambda o: (o.chart, o.key))
