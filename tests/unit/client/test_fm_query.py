"""``fm --query`` as StarlingX's fm client writes it: ``key[op][type::]value;...``."""

from __future__ import annotations

import pytest

from sysinv_client.commands.fm import parse_query
from sysinv_client.http import CliError


def test_one_and_several_filters() -> None:
    assert parse_query(None) == {}
    one = {"q.field": ["alarm_id"], "q.op": ["eq"], "q.value": ["200.004"], "q.type": [""]}
    assert parse_query("alarm_id=200.004") == one
    got = parse_query("start=20160131 10:23:45;end>=string::20171225; severity = major")
    assert got == {
        "q.field": ["start", "end", "severity"],
        "q.op": ["eq", "ge", "eq"],
        "q.value": ["20160131 10:23:45", "20171225", "major"],
        "q.type": ["", "string", ""],
    }


def test_entity_ids_keep_their_own_equals_sign() -> None:
    got = parse_query("entity_instance_id=host=controller-0")
    assert got["q.field"] == ["entity_instance_id"]
    assert got["q.value"] == ["host=controller-0"]


@pytest.mark.parametrize("text", ["alarm_id", "=1", "a b=1"])
def test_refused(text: str) -> None:
    with pytest.raises(CliError, match="Invalid query"):
        parse_query(text)
