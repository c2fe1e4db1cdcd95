"""Which fields of a live object differ from the fields its manifest set: a pure function.

Only what the chart wrote is compared. A field the manifest leaves out (``status``, a
default the API server filled in, ``metadata.uid``, helm's own annotations) is the
cluster's business, not drift. Where the API server rewrites what it was given without
changing its meaning, the two are compared as it would: resource quantities by value
(``1000m`` is ``1``), a Secret's ``stringData`` as the ``data`` it becomes, an empty
mapping or list as an absent one.
"""

from __future__ import annotations

import base64
import re
from decimal import Decimal, InvalidOperation
from typing import Any

_QUANTITY = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?")
_SUFFIX = {
    "": Decimal(1), "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12),
    "P": Decimal(10**15), "E": Decimal(10**18), "Ki": Decimal(2**10), "Mi": Decimal(2**20),
    "Gi": Decimal(2**30), "Ti": Decimal(2**40), "Pi": Decimal(2**50), "Ei": Decimal(2**60),
}  # fmt: skip
#: Of ``metadata``, only these are the chart's; the rest (name and namespace identify the
#: object; uid, resourceVersion, managedFields...) belong to the API server.
_METADATA_FIELDS = ("labels", "annotations")


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes resource quantity's value, or None when ``value`` is not one."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    match = _QUANTITY.fullmatch(str(value).strip())
    if match is None:
        return None
    try:
        return Decimal(match.group(1)) * _SUFFIX[match.group(2) or ""]
    except InvalidOperation:
        return None


def _same_scalar(want: Any, live: Any) -> bool:
    if want == live and type(want) is type(live):
        return True
    if isinstance(want, bool) or isinstance(live, bool):
        return False
    a, b = quantity(want), quantity(live)
    return a is not None and a == b


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def _named(items: list[Any]) -> dict[str, Any] | None:
    """A list of mappings keyed by their unique ``name`` (containers, ports, volumes,
    env), or None when it is not one."""
    if not items or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None
    by_name = {i["name"]: i for i in items}
    return by_name if len(by_name) == len(items) else None


def _walk(want: Any, live: Any, path: str, out: list[str]) -> None:
    if want is None:
        return  # helm drops a null; the chart did not set the field
    if isinstance(want, dict):
        if not isinstance(live, dict):
            if not (_empty(live) and not want):
                out.append(path)
            return
        for key in sorted(want, key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in live:
                if not _empty(want[key]):
                    out.append(sub)
                continue
            _walk(want[key], live[key], sub, out)
        return
    if isinstance(want, list):
        if not isinstance(live, list):
            if not (_empty(live) and not want):
                out.append(path)
            return
        wanted, found = _named(want), _named(live)
        if wanted is not None and found is not None:
            if set(found) - set(wanted):
                out.append(path)  # an element the chart did not write was added
            for name, item in wanted.items():
                sub = f"{path}[{name}]"
                if name not in found:
                    out.append(sub)
                else:
                    _walk(item, found[name], sub, out)
            return
        if len(want) != len(live):
            out.append(path)
            return
        for i, (a, b) in enumerate(zip(want, live, strict=True)):
            _walk(a, b, f"{path}[{i}]", out)
        return
    if not _same_scalar(want, live):
        out.append(path)


def _as_stored(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest as the API server stores it, where that differs in form only."""
    if manifest.get("kind") == "Secret" and manifest.get("apiVersion") == "v1":
        string_data = manifest.get("stringData")
        if isinstance(string_data, dict):
            data = dict(manifest.get("data") or {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            manifest = {k: v for k, v in manifest.items() if k != "stringData"}
            manifest["data"] = data
    return manifest


def changed_fields(manifest: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """The paths (``spec.replicas``, ``spec.template.spec.containers[web].image``,
    ``data.GREETING``) of the fields ``manifest`` sets that ``live`` does not hold as set,
    sorted; empty when the live object is as deployed. Never values: a Secret's path is
    safe to show, its data is not."""
    want = _as_stored(manifest)
    out: list[str] = []
    for key in sorted(want):
        if key in ("apiVersion", "kind", "status"):
            continue
        if key == "metadata":
            meta, live_meta = want.get("metadata") or {}, live.get("metadata") or {}
            for field in _METADATA_FIELDS:
                _walk(meta.get(field), live_meta.get(field) or {}, f"metadata.{field}", out)
            continue
        if key not in live:
            if not _empty(want[key]):
                out.append(key)
            continue
        _walk(want[key], live[key], key, out)
    return sorted(set(out))
