"""Every mutating operation of the OpenAPI document, fuzzed (schemathesis): anonymous and
reader callers are refused every time (401/403, never 2xx or 5xx); an admin never gets a
5xx, whatever the input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.stack import Stack

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
#: Cases per operation; a dozen mutating operations make well over 1,000 per caller.
PER_OPERATION = 100


def fuzz(stack: Stack, headers: dict[str, str], check: Callable[[Any, Any], None]) -> int:
    schema = schemathesis.openapi.from_asgi("/openapi.json", stack.client.app)
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() not in MUTATING:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case: Any) -> None:
            nonlocal count
            response = case.call(headers=headers)
            check(case, response)
            count += 1

        run()
    return count


def refused(expected: set[int]) -> Callable[[Any, Any], None]:
    def check(case: Any, response: Any) -> None:
        assert response.status_code in expected, (
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
        )

    return check


def never_5xx(case: Any, response: Any) -> None:
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} body={case.body!r}: "
        f"{response.status_code} {response.text[:300]}"
    )


def test_anonymous_is_always_401(secured: Stack) -> None:
    assert fuzz(secured, {}, refused({401})) >= 1000


def test_reader_is_always_403_on_writes(secured: Stack, tokens: dict[str, str]) -> None:
    assert fuzz(secured, {"X-Auth-Token": tokens["reader"]}, refused({403})) >= 1000


def test_admin_never_gets_a_5xx(secured: Stack, tokens: dict[str, str]) -> None:
    assert fuzz(secured, {"X-Auth-Token": tokens["admin"]}, never_5xx) >= 1000
