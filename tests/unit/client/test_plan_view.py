"""``application-apply|remove --dry-run``: the plan as a readable diff, or as data."""

from __future__ import annotations

import io
import json

import yaml

from sysinv_client.plan_view import print_plan

PLAN = {
    "name": "hello-app", "operation": "apply", "app_version": "1.0-1",
    "charts": [
        {"chart": "hello-config", "release": "hello-config", "namespace": "hello",
         "action": "upgrade", "reason": None, "deployed_revision": 2,
         "deployed_chart_version": "0.1.0", "chart_version": "0.2.0",
         "overrides": [{"path": "settings.greeting", "source": "user", "change": "changed",
                        "old": "Hello", "new": "Hi"}],
         "objects": [{"api_version": "v1", "kind": "ConfigMap", "namespace": "hello",
                      "name": "hello-config-settings", "change": "changed",
                      "fields": [{"path": "data.GREETING", "old": "Hello", "new": "Hi"}]}]},
        {"chart": "hello-worker", "release": "hello-worker", "namespace": "w",
         "action": "remove", "reason": "disabled", "deployed_revision": 1,
         "deployed_chart_version": "0.1.0", "chart_version": None, "overrides": [],
         "objects": [{"api_version": "apps/v1", "kind": "Deployment", "namespace": "w",
                      "name": "hello-worker", "change": "removed", "fields": []}]},
    ],
}  # fmt: skip


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_diff_without_colour_off_a_terminal() -> None:
    out = io.StringIO()
    print_plan(out, PLAN)
    assert out.getvalue().splitlines() == [
        "Plan: application-apply of hello-app 1.0-1 (2 chart(s), nothing changed)",
        "~ hello-config: upgrade (release hello-config in hello, revision 2, chart 0.1.0 -> 0.2.0)",
        "    overrides:",
        "    ~ [user] settings.greeting: Hello -> Hi",
        "    objects:",
        "    ~ ConfigMap hello/hello-config-settings",
        "        ~ data.GREETING: Hello -> Hi",
        "- hello-worker: remove (disabled) (release hello-worker in w, revision 1, chart 0.1.0)",
        "    objects:",
        "    - Deployment w/hello-worker",
    ]
    assert "\x1b[" not in out.getvalue()


def test_colour_on_a_terminal() -> None:
    out = Tty()
    print_plan(out, PLAN)
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("\x1b[33m~ hello-config") and lines[1].endswith("\x1b[0m")
    assert lines[-1] == "\x1b[31m    - Deployment w/hello-worker\x1b[0m"


def test_json_and_yaml_are_the_plan_itself() -> None:
    for fmt, load in (("json", json.loads), ("yaml", yaml.safe_load)):
        out = Tty()
        print_plan(out, PLAN, fmt)
        assert load(out.getvalue()) == PLAN
        assert "\x1b[" not in out.getvalue()
