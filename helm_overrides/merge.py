"""How Helm 3 builds ``.Values`` for ``helm template CHART -f a.yaml -f b.yaml --set x=y``.

``merge_values``/``merge_layers`` are the merge between successive ``-f`` files
(``mergeMaps`` in pkg/cli/values), ``coalesce`` lays the user's values over the chart's
values.yaml (``CoalesceValues`` in pkg/chartutil/coalesce.go; helm 4 has it in
pkg/chart/common/util) and ``render_values`` chains them with the ``--set`` parser.

Nothing here does I/O or changes its arguments; every dict and list returned is new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from helm_overrides.setvalues import clone_values, parse_set

__all__ = ["coalesce", "merge_layers", "merge_values", "render_values"]


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` laid over ``base`` as a later ``-f`` file is laid over an earlier one.

    A map over a map merges key by key; anything else (scalar, list, null) replaces what was
    there, and a null stays as a key holding None: removing keys is coalesce's job.
    """
    out = {key: clone_values(value) for key, value in base.items()}
    for key, value in override.items():
        current = out.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            out[key] = merge_values(current, value)
        else:
            out[key] = clone_values(value)
    return out


def merge_layers(layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """All ``layers`` merged in order with ``merge_values``, starting from an empty map."""
    out: dict[str, Any] = {}
    for layer in layers:
        out = merge_values(out, layer)
    return out


def coalesce(chart_defaults: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The user's ``values`` over the chart's ``chart_defaults``, as helm 3 coalesces them.

    The user wins everywhere, type changes included; maps present on both sides merge. A
    user null deletes the key when the defaults have that key (whatever they hold there),
    and is kept as None when they do not. Nulls in the defaults are kept where the user
    says nothing.
    """
    out = {key: clone_values(value) for key, value in values.items()}
    for key, default in chart_defaults.items():
        if key not in out:
            out[key] = clone_values(default)
        elif out[key] is None:
            del out[key]
        elif isinstance(out[key], dict) and isinstance(default, Mapping):
            _coalesce_tables(out[key], default)
    return out


def _coalesce_tables(dst: dict[str, Any], src: Mapping[str, Any]) -> None:
    # helm 4 keeps a nested user null when the default there is null too (helm 3 deletes it,
    # as at the top level); this follows helm 3.
    for key, default in src.items():
        if key not in dst:
            dst[key] = clone_values(default)
        elif dst[key] is None:
            del dst[key]
        elif isinstance(dst[key], dict) and isinstance(default, Mapping):
            _coalesce_tables(dst[key], default)


def render_values(
    chart_defaults: Mapping[str, Any], files: Sequence[Mapping[str, Any]], sets: Sequence[str]
) -> dict[str, Any]:
    """``.Values`` of ``helm template`` given the chart's values.yaml, the ``-f`` files and
    the ``--set`` arguments, each in command-line order.

    Raises ``SetValueError`` for a ``--set`` argument Helm refuses.
    """
    values = merge_layers(files)
    for expr in sets:
        parse_set(expr, values)
    return coalesce(chart_defaults, values)
