"""The OpenAPI document describes the API: every operation has a summary and a
description, a typed request body (a JSON Patch for the host and system PATCHes), a full
response model, the errors it answers in sysinv's error body, and no 422 (which never
happens: validation failures are 400s)."""

from __future__ import annotations

from typing import Any

from tests.api.test_apps_requests import bundle_bytes, upload_body
from tests.stack import Stack, wait_done

BODIES = {"post", "put", "patch"}
JSON_PATCHES = {("patch", "/v1/isystems/{ident}"), ("patch", "/v1/ihosts/{ident}")}
#: POSTs whose query string says it all (StarlingX's client sends ``{}``, read by no one).
NO_BODY = {("post", "/v1/registry_image")}
#: Operations that cannot fail: the public version documents.
CANNOT_FAIL = {("get", "/"), ("get", "/v1")}


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return found


def typed(doc: dict[str, Any], schema: dict[str, Any]) -> bool:
    """A schema that says what the JSON holds: an object with properties, an array of
    such, or a map of typed values."""
    s = resolve(doc, schema)
    if s.get("type") == "array":
        return typed(doc, s.get("items", {}))
    if s.get("properties"):
        return True
    extra = s.get("additionalProperties")
    return isinstance(extra, dict) and bool(extra.get("type"))


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def test_every_operation_is_described(api: Stack) -> None:
    doc = api.client.get("/openapi.json").json()
    ops = operations(doc)
    assert len(ops) >= 29
    problems = []
    summaries = [op.get("summary", "") for _, _, op in ops]
    for method, path, op in ops:
        where = f"{method.upper()} {path}"
        if not op.get("summary") or summaries.count(op["summary"]) > 1:
            problems.append(f"{where}: no summary of its own ({op.get('summary')!r})")
        if len(op.get("description") or "") < 10:
            problems.append(f"{where}: no description")
        responses = op.get("responses", {})
        if "422" in responses:
            problems.append(f"{where}: documents a 422")
        if method in BODIES and (method, path) not in NO_BODY:
            content = op.get("requestBody", {}).get("content", {})
            schemas = [m.get("schema", {}) for m in content.values()]
            if not schemas or not all(typed(doc, s) for s in schemas):
                problems.append(f"{where}: untyped request body {schemas}")
            if (method, path) in JSON_PATCHES and schemas[0] != {
                "$ref": "#/components/schemas/JsonPatch"
            }:
                problems.append(f"{where}: not a JSON Patch: {schemas}")
        ok = [code for code in responses if code.startswith("2")]
        if not ok:
            problems.append(f"{where}: no success response")
        for code in ok:
            if code == "204":
                continue
            schema = responses[code].get("content", {}).get("application/json", {}).get("schema")
            if not schema or not typed(doc, schema):
                problems.append(f"{where}: {code} has no response model: {schema}")
        failures = [code for code in responses if code[0] in "45"]
        if not failures and (method, path) not in CANNOT_FAIL:
            problems.append(f"{where}: no error response")
        for code in failures:
            schema = responses[code].get("content", {}).get("application/json", {}).get("schema")
            if schema != {"$ref": "#/components/schemas/ErrorBody"}:
                problems.append(f"{where}: {code} is not sysinv's error body: {schema}")
    assert not problems, "\n".join(problems)
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def declared(doc: dict[str, Any], name: str) -> set[str]:
    return set(doc["components"]["schemas"][name]["properties"])


def test_response_models_declare_every_key_returned(api: Stack) -> None:
    doc = api.client.get("/openapi.json").json()
    host = api.add_host("worker-0", "worker", mgmt_mac="08:00:27:00:00:10")
    shown = api.client.get(f"/v1/ihosts/{host['uuid']}").json()
    assert set(shown) == declared(doc, "HostOut")
    assert set(api.client.get("/v1/ihosts").json()["ihosts"][0]) == declared(doc, "HostOut")
    system = api.client.get("/v1/isystems").json()["isystems"][0]
    assert set(system) == declared(doc, "SystemOut")
    assert set(api.client.get("/v1/platform_settings").json()) == declared(doc, "PlatformOut")
    assert api.client.post("/v1/apps", json=upload_body(bundle_bytes())).status_code == 200
    wait_done(api, "hello-app")
    assert set(api.client.get("/v1/apps/hello-app").json()) == declared(doc, "AppDetail")
    assert set(api.client.get("/v1/apps").json()["apps"][0]) == declared(doc, "AppOut")


def test_errors_documented_are_the_ones_answered(api: Stack) -> None:
    """A sample: what the document says an operation answers, it answers, in that body."""
    doc = api.client.get("/openapi.json").json()
    cases = [
        ("get", "/v1/ihosts/{ident}", "/v1/ihosts/nobody", None, 404),
        ("post", "/v1/ihosts", "/v1/ihosts", {"hostname": "Bad Name"}, 400),
        ("patch", "/v1/apps/{name}", "/v1/apps/x?directive=explode", {}, 403),
        ("patch", "/v1/apps/{name}", "/v1/apps/x", {}, 400),
        ("post", "/v1/labels/{host_ident}", "/v1/labels/nobody", {"a": "b"}, 400),
        ("get", "/v1/labels/{label_uuid}", f"/v1/labels/{'0' * 32}", None, 404),
    ]
    for method, path, url, body, status in cases:
        assert str(status) in doc["paths"][path][method]["responses"], (method, path, status)
        r = api.client.request(method.upper(), url, json=body)
        assert r.status_code == status, (url, r.status_code, r.text)
        assert set(r.json()) >= {"error_message"}
