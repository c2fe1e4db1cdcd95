"""The plugin's label syntax check (sysinv_dashboard/labels.py needs no Django)."""

from __future__ import annotations

import pytest

from sysinv_dashboard import labels


def test_lines_become_labels() -> None:
    parsed, problems = labels.parse(
        "tier=web\n\n  example.com/zone = a-1 \nempty=\nopenstack-control-plane=enabled"
    )
    assert problems == []
    assert parsed == {
        "tier": "web", "example.com/zone": "a-1", "empty": "",
        "openstack-control-plane": "enabled",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("bad key!=x", "label key 'bad key!': the name must be 1-63 characters"),
        ("-edge=x", "label key '-edge'"),
        (f"{'k' * 64}=x", "the name must be 1-63 characters"),
        ("Example.COM/zone=a", "the prefix must be a DNS subdomain"),
        ("tier=not ok", "label tier: the value must be at most 63 characters"),
        (f"tier={'v' * 64}", "label tier: the value"),
        ("tier", "'tier' is not key=value"),
        ("tier=a\ntier=b", "label key 'tier' is given twice"),
        ("  \n", "give at least one key=value line"),
    ],
)
def test_problems_are_named(text: str, says: str) -> None:
    _parsed, problems = labels.parse(text)
    assert any(says in p for p in problems), problems


def test_every_problem_is_reported_at_once() -> None:
    _, problems = labels.parse("a b=1\nok=1\nc=d e")
    assert len(problems) == 2
