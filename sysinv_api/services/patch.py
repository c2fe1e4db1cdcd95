"""JSON-Patch lists as sysinv's clients send them for PATCH of hosts and the system."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from sysinv_common.errors import InvalidInput

_MISSING = object()


def parse_patch(
    body: object, allowed: Set[str], refused_later: Set[str] = frozenset()
) -> dict[str, Any]:
    """Turn ``[{"op": "replace", "path": "/x", "value": v}, ...]`` into ``{"x": v}``.

    ``add`` is taken as ``replace`` and ``remove`` as a null value, as sysinv does.
    Unknown paths are refused by name, so a typo never passes silently; the names in
    ``refused_later`` pass, for the caller to refuse with its own reason.
    """
    if not isinstance(body, list) or not body:
        raise InvalidInput(
            'Expected a JSON-Patch list such as [{"op": "replace", "path": "/x", "value": "y"}]'
        )
    changes: dict[str, Any] = {}
    for op in body:
        if not isinstance(op, dict):
            raise InvalidInput("Each JSON-Patch operation must be an object")
        kind = op.get("op")
        path = op.get("path")
        if kind not in ("replace", "add", "remove"):
            raise InvalidInput(f"Unsupported patch operation '{kind}': use replace, add or remove")
        if not isinstance(path, str) or not path.startswith("/") or path.count("/") != 1:
            raise InvalidInput(f"Invalid patch path '{path}': expected '/<attribute>'")
        name = path[1:]
        if name not in allowed and name not in refused_later:
            raise InvalidInput(
                f"Attribute '{name}' cannot be changed: allowed are {', '.join(sorted(allowed))}"
            )
        value = op.get("value", _MISSING)
        if kind == "remove":
            value = None
        elif value is _MISSING:
            raise InvalidInput(f"Patch operation on '{path}' has no value")
        changes[name] = value
    return changes
