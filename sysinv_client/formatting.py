"""Output: StarlingX-style tables, or json / yaml / value for scripts."""

from __future__ import annotations

import json
import pprint
from collections.abc import Sequence
from typing import Any, TextIO

import bounded_yaml

FORMATS = ("table", "json", "yaml", "value")
#: Where a list or a dict in a table cell wraps onto more lines.
CELL_WIDTH = 72


def cell(value: Any) -> str:
    """A value as StarlingX's client prints it: Python's notation (``['hello']``, ``True``,
    ``None``); a list or dict too long for one line is spread over several, one item a
    line."""
    if value is None:
        return "None"
    if isinstance(value, dict | list | tuple):
        return pprint.pformat(value, width=CELL_WIDTH, sort_dicts=True)
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], *(len(line) for line in text.splitlines() or [""]))
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [rule, _line(headers, widths), rule]
    for row in cells:
        lines = [text.splitlines() or [""] for text in row]
        for n in range(max(len(col) for col in lines) if lines else 1):
            out.append(_line([col[n] if n < len(col) else "" for col in lines], widths))
    out.append(rule)
    return "\n".join(out)


def _line(values: Sequence[str], widths: Sequence[int]) -> str:
    return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"


def select(columns: list[str] | None, available: Sequence[str]) -> list[str]:
    if not columns:
        return list(available)
    unknown = [c for c in columns if c not in available]
    if unknown:
        from sysinv_client.http import CliError

        raise CliError(
            f"Unknown column(s): {', '.join(unknown)}; available: {', '.join(available)}"
        )
    return columns


def print_list(
    out: TextIO,
    items: Sequence[dict[str, Any]],
    fields: Sequence[str],
    headers: Sequence[str],
    fmt: str = "table",
    columns: list[str] | None = None,
    sort_key: str | None = None,
) -> None:
    if sort_key:
        items = sorted(items, key=lambda i: (i.get(sort_key) is None, i.get(sort_key)))
    chosen = select(columns, fields)
    labels = [headers[list(fields).index(f)] for f in chosen]
    rows = [[item.get(f) for f in chosen] for item in items]
    if fmt == "json":
        out.write(json.dumps([dict(zip(chosen, r, strict=True)) for r in rows], indent=2) + "\n")
    elif fmt == "yaml":
        out.write(
            bounded_yaml.dump([dict(zip(chosen, r, strict=True)) for r in rows], sort_keys=False)
        )
    elif fmt == "value":
        for r in rows:
            out.write(" ".join(cell(v) for v in r) + "\n")
    else:
        out.write(table(labels, rows) + "\n")  # empty: the header alone


def print_dict(
    out: TextIO, obj: dict[str, Any], fmt: str = "table", columns: list[str] | None = None,
    order: Sequence[str] | None = None,
) -> None:  # fmt: skip
    keys = list(order) if order else sorted(k for k in obj if k != "links")
    keys = select(columns, keys)
    data = {k: obj.get(k) for k in keys}
    if fmt == "json":
        out.write(json.dumps(data, indent=2) + "\n")
    elif fmt == "yaml":
        out.write(bounded_yaml.dump(data, sort_keys=False))
    elif fmt == "value":
        for k in keys:
            out.write(cell(data[k]) + "\n")
    else:
        out.write(table(["Property", "Value"], [[k, data[k]] for k in keys]) + "\n")
