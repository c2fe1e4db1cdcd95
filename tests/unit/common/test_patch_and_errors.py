from __future__ import annotations

import pytest

from sysinv_api.services.patch import parse_patch
from sysinv_common.errors import Conflict, InvalidInput, InvalidState, SysinvError
from sysinv_common.messaging.client import error, ok, unwrap


def test_patch_list_to_changes() -> None:
    body = [
        {"op": "replace", "path": "/hostname", "value": "w1"},
        {"op": "add", "path": "/location", "value": {"locn": "x"}},
        {"op": "remove", "path": "/mgmt_mac"},
    ]
    assert parse_patch(body, {"hostname", "location", "mgmt_mac"}) == {
        "hostname": "w1",
        "location": {"locn": "x"},
        "mgmt_mac": None,
    }


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ([], "JSON-Patch list"),
        ({"op": "replace"}, "JSON-Patch list"),
        (["x"], "must be an object"),
        ([{"op": "copy", "path": "/a", "value": 1}], "Unsupported patch operation"),
        ([{"op": "replace", "path": "a", "value": 1}], "Invalid patch path"),
        ([{"op": "replace", "path": "/a/b", "value": 1}], "Invalid patch path"),
        ([{"op": "replace", "path": "/zzz", "value": 1}], "cannot be changed"),
        ([{"op": "replace", "path": "/a"}], "has no value"),
    ],
)
def test_patch_refusals(body: object, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        parse_patch(body, {"a"})


def test_domain_errors_survive_the_envelope() -> None:
    assert unwrap(ok({"x": 1})) == {"x": 1}
    for exc in (InvalidInput("bad"), Conflict("taken"), InvalidState("raced")):
        with pytest.raises(type(exc)) as caught:
            unwrap(error(exc))
        assert type(caught.value) is type(exc)
        assert caught.value.message == exc.message
    with pytest.raises(SysinvError, match="unexpected answer"):
        unwrap("garbage")
    with pytest.raises(SysinvError, match="boom"):
        unwrap({"error": {"type": "NoSuchClass", "message": "boom"}})
