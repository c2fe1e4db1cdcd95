"""Check emitted overrides against the key paths the real charts read (tests/data)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "chart_key_paths.json"

#: Maps the real charts read whole (``toYaml``): any key below them is the chart's to accept.
WHOLE_MAPS = {"global.nodeSelector", "nodeSelector"}
#: helm-toolkit's per-host overrides: ``hosts[].conf`` is laid over the chart's ``conf``.
PER_HOST = re.compile(r"^conf\.overrides\.[^.]+\.hosts\[\]\.conf\.(.*)$")


@cache
def key_paths(chart: str) -> frozenset[str]:
    data = json.loads(DATA.read_text())
    return frozenset(data["charts"][chart]["key_paths"])


def _esc(key: str) -> str:
    return key.replace(".", "\\.")


def leaf_paths(values: Any, prefix: str = "") -> list[str]:
    if isinstance(values, dict) and values:
        out: list[str] = []
        for key, value in values.items():
            out += leaf_paths(value, f"{prefix}.{_esc(key)}" if prefix else _esc(key))
        return out
    if isinstance(values, list) and any(isinstance(v, dict) for v in values):
        out = []
        for item in values:
            out += leaf_paths(item, f"{prefix}[]")
        return sorted(set(out))
    return [prefix]


def unknown_paths(chart: str, values: dict[str, Any]) -> list[str]:
    known = key_paths(chart)
    bad = []
    for path in leaf_paths(values):
        per_host = PER_HOST.match(path)
        check = f"conf.{per_host.group(1)}" if per_host else path
        if any(check.startswith(f"{m}.") for m in WHOLE_MAPS) and check.split(".")[0] in known:
            continue
        if check not in known:
            bad.append(path)
    return bad
