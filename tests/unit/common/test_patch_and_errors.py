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


def test_an_error_class_only_one_side_knows_travels_as_its_nearest_known_base() -> None:
    """The conductor's own Conflict subclass (a Ceph command refused) stays a Conflict on
    the API's side, a 400, not a bare SysinvError (a 500)."""

    class CommandRefused(Conflict):
        def __init__(self, message: str, errno: int) -> None:
            super().__init__(message)
            self.errno = errno

    with pytest.raises(Conflict) as caught:
        unwrap(error(CommandRefused("pool deletion is disabled", -1)))
    assert type(caught.value) is Conflict
    assert caught.value.message == "pool deletion is disabled"
