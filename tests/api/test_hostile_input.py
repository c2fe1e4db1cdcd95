"""Hostile input to the v1 API is a 400 in sysinv's format, never a 500: ids past the
database's integers, NUL characters the database refuses, bodies nested without end, numbers
past what JSON or Python can hold. On SQLite and on PostgreSQL (tests/api/conftest.py)."""

from __future__ import annotations

import time

import pytest

from tests.api.test_hosts import fault
from tests.stack import Stack

TOO_BIG = ["99999999999999999999", str(2**31), str(2**63), str(2**64), "9" * 5000]


def host_requests(ident: str) -> list[tuple[str, str, object]]:
    """Every route that takes a host ident in its path."""
    patch = [{"op": "replace", "path": "/location", "value": "rack 2"}]
    return [
        ("GET", f"/v1/ihosts/{ident}", None),
        ("GET", f"/v1/ihosts/{ident}/labels", None),
        ("PATCH", f"/v1/ihosts/{ident}", patch),
        ("DELETE", f"/v1/ihosts/{ident}", None),
        ("POST", f"/v1/labels/{ident}", {"a": "b"}),
    ]


@pytest.mark.parametrize("ident", TOO_BIG)
def test_host_ids_past_the_database_integer_are_400(api: Stack, ident: str) -> None:
    api.add_host("worker-0")
    for method, url, body in host_requests(ident):
        r = api.client.request(method, url, json=body)
        assert r.status_code == 400, (method, url, r.text)
        assert "host ids are at most 2147483647" in fault(r), (method, url)


def test_the_largest_host_id_and_other_digits_are_not_found(api: Stack) -> None:
    host = api.add_host("worker-0")
    for ident in (str(2**31 - 1), "0", "0000000000000000000000001x", "²", "١٢"):
        r = api.client.get(f"/v1/ihosts/{ident}")
        assert r.status_code == 404, (ident, r.text)
        assert "Host not found" in fault(r)
    assert api.client.get(f"/v1/ihosts/{'0' * 30}{host['id']}").status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/v1/ihosts/%00"),
        ("GET", "/v1/ihosts/a%00b/labels"),
        ("PATCH", "/v1/ihosts/%00"),
        ("DELETE", "/v1/ihosts/%00"),
        ("POST", "/v1/labels/%00"),
        ("GET", "/v1/labels/%00"),
        ("DELETE", "/v1/labels/%00"),
        ("GET", "/v1/apps/%00"),
        ("PATCH", "/v1/apps/%00?directive=apply"),
        ("DELETE", "/v1/apps/%00"),
        ("GET", "/v1/isystems/%00"),
        ("GET", "/v1/helm_charts?app_name=%00"),
        ("GET", "/v1/helm_charts/app?name=%00&namespace=ns"),
        ("PATCH", "/v1/helm_charts/%00?name=a&namespace=b"),
        ("DELETE", "/v1/helm_charts/app?name=a&namespace=%00"),
    ],
)
def test_nul_in_the_path_or_query_is_400(api: Stack, method: str, url: str) -> None:
    r = api.client.request(method, url, json={"values": {}} if method == "PATCH" else None)
    assert r.status_code == 400, r.text
    assert "holds a control character" in fault(r)


BODY_ROUTES = [
    ("POST", "/v1/ihosts"),
    ("PATCH", "/v1/ihosts/worker-0"),
    ("POST", "/v1/labels/worker-0"),
    ("POST", "/v1/apps"),
    ("POST", "/v1/apps/update"),
    ("PATCH", "/v1/apps/x?directive=apply"),
    ("PATCH", "/v1/isystems/x"),
    ("PATCH", "/v1/helm_charts/x?name=a&namespace=b"),
]


@pytest.mark.parametrize(("method", "url"), BODY_ROUTES)
@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deeply_nested_json_bodies_are_400(api: Stack, method: str, url: str, depth: int) -> None:
    api.add_host("worker-0")
    started = time.monotonic()
    for body in ("[" * depth + "]" * depth, '{"a": ' * depth + "1" + "}" * depth):
        r = api.client.request(
            method, url, content=body, headers={"content-type": "application/json"}
        )
        assert r.status_code == 400, r.text
        assert fault(r) == "Invalid request: the JSON body is nested more than 32 levels deep"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("method", "url", "body", "message"),
    [
        ("POST", "/v1/ihosts", '{"hostname": "w1", "bm_ip": "a\\u0000"}', "NUL character"),
        ("POST", "/v1/ihosts", '{"hostname": "w1", "a\\u0000": 1}', "NUL character"),
        ("PATCH", "/v1/ihosts/worker-0",
         '[{"op": "replace", "path": "/console", "value": "tty\\u0000"}]', "NUL character"),
        ("PATCH", "/v1/isystems/x",
         '[{"op": "replace", "path": "/description", "value": "\\u0000"}]', "NUL character"),
        ("POST", "/v1/labels/worker-0", '{"a": "b\\u0000"}', "NUL character"),
        ("POST", "/v1/ihosts", '{"hostname": "w1", "bm_ip": NaN}', "holds NaN"),
        ("POST", "/v1/ihosts", '{"hostname": "w1", "bm_ip": -Infinity}', "holds -Infinity"),
        ("POST", "/v1/ihosts", '{"hostname": "w1", "bm_ip": ' + "9" * 5000 + "}",
         "an integer of more than 4300 digits"),
        ("POST", "/v1/apps", b'{"tarfile": "\xff"}', "the request body is not UTF-8"),
        ("PATCH", "/v1/ihosts/worker-0",
         '[{"op": "replace", "path": "/clock_synchronization", "value": 99999999999999999999}]',
         "Invalid clock_synchronization: longer than 16 characters"),
        ("POST", "/v1/ihosts", '{"hostname": "w1", "personality": "worker", "bm_ip": "'
         + "1" * 65 + '"}', "Invalid bm_ip: longer than 64 characters"),
    ],
)  # fmt: skip
def test_bodies_the_database_would_refuse_are_400(
    api: Stack, method: str, url: str, body: str | bytes, message: str
) -> None:
    api.add_host("worker-0")
    r = api.client.request(method, url, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert message in fault(r)


def test_ordinary_bodies_still_work(api: Stack) -> None:
    host = api.add_host("worker-0", location={"locn": "rack 1"})
    r = api.client.patch(
        f"/v1/ihosts/{host['id']}",
        json=[{"op": "replace", "path": "/clock_synchronization", "value": "ptp"}],
    )
    assert r.status_code == 200, r.text
    r = api.client.post("/v1/ihosts", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in fault(r)
