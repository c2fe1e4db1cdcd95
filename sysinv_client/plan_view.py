"""A plan (``GET /v1/apps/{name}/plan``) as an operator reads it: a diff per chart.

Colour only on a terminal; ``--format json|yaml`` prints the plan itself for automation.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

import bounded_yaml

_COLOURS = {"+": "\x1b[32m", "-": "\x1b[31m", "~": "\x1b[33m", "=": "\x1b[2m", "#": "\x1b[1m"}
_RESET = "\x1b[0m"
_ACTION_MARK = {"install": "+", "upgrade": "~", "remove": "-", "unchanged": "="}
_CHANGE_MARK = {"added": "+", "removed": "-", "changed": "~"}


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, sort_keys=True)


def _change(mark: str, path: str, old: Any, new: Any) -> str:
    if mark == "+":
        return f"{path}: {_value(new)}"
    if mark == "-":
        return f"{path}: {_value(old)}"
    return f"{path}: {_value(old)} -> {_value(new)}"


def plan_lines(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(mark, text) lines of ``plan``: ``#`` a heading, ``+ - ~ =`` what changes how."""
    charts = plan.get("charts") or []
    op, name = plan.get("operation"), plan.get("name")
    version = str(plan.get("app_version"))
    if plan.get("target_version"):
        version += f" -> {plan['target_version']}"
    lines: list[tuple[str, str]] = [
        (
            "#",
            f"Plan: application-{op} of {name} {version} ({len(charts)} chart(s), nothing changed)",
        )
    ]
    for chart in charts:
        action = str(chart.get("action"))
        mark = _ACTION_MARK.get(action, "~")
        why = f" ({chart['reason']})" if chart.get("reason") else ""
        rev = chart.get("deployed_revision")
        version = ""
        old_v, new_v = chart.get("deployed_chart_version"), chart.get("chart_version")
        if old_v and new_v and old_v != new_v:
            version = f", chart {old_v} -> {new_v}"
        elif new_v or old_v:
            version = f", chart {new_v or old_v}"
        at = f", revision {rev}" if rev else ""
        lines.append(
            (
                mark,
                f"{mark} {chart['chart']}: {action}{why} (release {chart['release']} in "
                f"{chart['namespace']}{at}{version})",
            )
        )
        overrides = chart.get("overrides") or []
        if overrides:
            lines.append(("=", "    overrides:"))
        for c in overrides:
            m = _CHANGE_MARK.get(str(c.get("change")), "~")
            text = _change(m, str(c["path"]), c.get("old"), c.get("new"))
            lines.append((m, f"    {m} [{c.get('source')}] {text}"))
        objects = chart.get("objects") or []
        if objects:
            lines.append(("=", "    objects:"))
        for o in objects:
            m = _CHANGE_MARK.get(str(o.get("change")), "~")
            where = f"{o['namespace']}/" if o.get("namespace") else ""
            lines.append((m, f"    {m} {o['kind']} {where}{o['name']}"))
            for f in o.get("fields") or []:
                fm = "+" if f.get("old") is None else "-" if f.get("new") is None else "~"
                lines.append(
                    (fm, f"        {fm} {_change(fm, f['path'], f.get('old'), f.get('new'))}")
                )
    return lines


def print_plan(out: TextIO, plan: dict[str, Any], fmt: str = "table") -> None:
    if fmt == "json":
        out.write(json.dumps(plan, indent=2) + "\n")
        return
    if fmt == "yaml":
        out.write(bounded_yaml.dump(plan, sort_keys=False))
        return
    colour = out.isatty()
    for mark, text in plan_lines(plan):
        if colour and mark in _COLOURS:
            text = f"{_COLOURS[mark]}{text}{_RESET}"
        out.write(text + "\n")
