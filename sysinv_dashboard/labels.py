"""Kubernetes label syntax, checked before a request: ``key=value`` lines to a dict.

A key is an optional DNS-subdomain prefix and ``/`` before a name of at most 63
characters (alphanumerics, ``-``, ``_``, ``.``, alphanumeric at both ends); a value is
empty or follows the name's rule.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _PREFIX.match(prefix)):
        return f"label key {key!r}: the prefix must be a DNS subdomain"
    if not _NAME.match(name):
        return (
            f"label key {key!r}: the name must be 1-63 characters, alphanumerics, '-', "
            "'_' or '.', starting and ending with an alphanumeric"
        )
    return None


def value_problem(key: str, value: str) -> str | None:
    if value and not _NAME.match(value):
        return (
            f"label {key}: the value must be at most 63 characters, alphanumerics, '-', "
            "'_' or '.', starting and ending with an alphanumeric"
        )
    return None


def parse(text: str) -> tuple[dict[str, str], list[str]]:
    """The labels of ``key=value`` lines (blank lines ignored) and every problem found."""
    labels: dict[str, str] = {}
    problems: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep:
            problems.append(f"{line!r} is not key=value")
            continue
        problem = key_problem(key) or value_problem(key, value)
        if problem:
            problems.append(problem)
        elif key in labels:
            problems.append(f"label key {key!r} is given twice")
        else:
            labels[key] = value
    if not labels and not problems:
        problems.append("give at least one key=value line")
    return labels, problems
