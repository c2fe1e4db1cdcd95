"""Differences between values and between rendered manifests, key path by key path.

Pure functions over plain data. A key path is dotted (``settings.greeting``), with list
items as ``[i]`` (``spec.containers[0].image``), as ``--set`` reads them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from sysinv_conductor.manifests import parse_manifest

#: How a masked value reads (as ``helm-override-show`` masks secrets).
MASK = "******"
_ABSENT = object()


@dataclass(frozen=True)
class Change:
    """One key path whose value differs; ``old``/``new`` None when absent on that side."""

    path: str
    old: Any
    new: Any

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed"


def _mapping(value: Any) -> bool:
    return isinstance(value, dict) and bool(value)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def changes(old: Any, new: Any, prefix: str = "") -> Iterator[Change]:
    """Every leaf where ``old`` and ``new`` differ; a mapping on one side only is each of
    its leaves, a list of another length one change at its own path."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            o, n = old.get(key, _ABSENT), new.get(key, _ABSENT)
            path = _join(prefix, str(key))
            if o is _ABSENT:
                # A new mapping is each of its leaves added: a key path names a value.
                yield from changes({}, n, path) if _mapping(n) else [Change(path, None, n)]
            elif n is _ABSENT:
                yield from changes(o, {}, path) if _mapping(o) else [Change(path, o, None)]
            else:
                yield from changes(o, n, path)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (o, n) in enumerate(zip(old, new, strict=True)):
            yield from changes(o, n, f"{prefix}[{i}]")
        return
    if old != new:
        yield Change(prefix, old, new)


def has_path(tree: Any, path: str) -> bool:
    """Whether ``tree`` sets ``path`` or a mapping above it (used to tell who set a key)."""
    node = tree
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(node, list) or index >= len(node):
                return False
            node = node[index]
        else:
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
    return True


def mask(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` with every occurrence of one of ``secrets`` replaced by the mask."""
    plain = [s for s in secrets if s]
    if not plain:
        return value
    if isinstance(value, str):
        for secret in plain:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {k: mask(v, plain) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, plain) for v in value]
    return value


# --- manifests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectKey:
    api_version: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True)
class ObjectChange:
    key: ObjectKey
    #: added | removed | changed
    kind: str
    fields: tuple[Change, ...] = ()


def objects(manifest: str, default_namespace: str) -> dict[ObjectKey, dict[str, Any]]:
    """The objects of a rendered multi-document manifest, by their identity."""
    out: dict[ObjectKey, dict[str, Any]] = {}
    for doc in parse_manifest(manifest):
        meta = doc["metadata"]
        key = ObjectKey(
            str(doc["apiVersion"]), str(doc["kind"]),
            str(meta.get("namespace") or default_namespace), str(meta["name"]),
        )  # fmt: skip
        out[key] = doc
    return out


def _secret_payload_masked(obj: dict[str, Any]) -> dict[str, Any]:
    """A Secret's data and stringData are shown as masked: which keys differ, never what."""
    if obj.get("kind") != "Secret":
        return obj
    out = dict(obj)
    for field in ("data", "stringData"):
        if isinstance(out.get(field), dict):
            out[field] = {k: _digest(v) for k, v in out[field].items()}
    return out


def _digest(value: Any) -> str:
    # Equal values mask alike and different ones differently, so a changed key still
    # shows as changed; the digest itself is not shown (see mask_secret_fields).
    return "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()


def mask_secret_fields(change: Change) -> Change:
    def hide(v: Any) -> Any:
        return MASK if isinstance(v, str) and v.startswith("sha256:") else v

    return Change(change.path, hide(change.old), hide(change.new))


def manifest_changes(
    old_manifest: str, new_manifest: str, namespace: str, secrets: Iterable[str] = ()
) -> list[ObjectChange]:
    """Objects added, removed and changed (field by field) from ``old`` to ``new``;
    Secret payloads and every occurrence of ``secrets`` masked."""
    plain = list(secrets)
    old = objects(old_manifest, namespace)
    new = objects(new_manifest, namespace)
    out: list[ObjectChange] = []
    for key in sorted(set(old) | set(new), key=lambda k: (k.namespace, k.kind, k.name)):
        if key not in old:
            out.append(ObjectChange(key, "added"))
        elif key not in new:
            out.append(ObjectChange(key, "removed"))
        else:
            is_secret = key.kind == "Secret"
            o, n = _secret_payload_masked(old[key]), _secret_payload_masked(new[key])
            fields = []
            for c in changes(o, n):
                if is_secret:
                    c = mask_secret_fields(c)
                fields.append(Change(c.path, mask(c.old, plain), mask(c.new, plain)))
            if fields:
                out.append(ObjectChange(key, "changed", tuple(fields)))
    return out


def dump_value(value: Any) -> str:
    """A value on one line, as the CLI shows it."""
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
