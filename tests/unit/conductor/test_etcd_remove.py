"""How a member removal reads etcd's answers, the lost ones in particular.

The calls are scripted here, since the races they stand for (a member that stops before it
answers its own removal) cannot be brought about on demand on a real cluster; the real
calls are in tests/integration/test_controller_drain.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from sysinv_common.errors import KubeOperationFailed
from sysinv_conductor.kube import etcd
from sysinv_conductor.kube.etcd import EtcdMembers

THREE = [{"ID": "1", "name": "controller-0"}, {"ID": "2", "name": "controller-1"},
         {"ID": "3", "name": "controller-2"}]  # fmt: skip


class Scripted(EtcdMembers):
    """Answers each remove with the next scripted outcome; a successful outcome takes the
    member out of the list, as etcd does, whatever the answer."""

    def __init__(self, outcomes: list[tuple[bool, Exception | None]]) -> None:
        super().__init__(["https://unused"], "ca", "cert", "key")
        self.members = list(THREE)
        self.outcomes = outcomes
        self.removes = 0

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path.endswith("/list"):
            return {"members": list(self.members)}
        self.removes += 1
        removed, error = self.outcomes.pop(0)
        if removed:
            self.members = [m for m in self.members if m["ID"] != body["ID"]]
        if error is not None:
            raise error
        return {}


def unhealthy() -> Exception:
    return etcd._Unhealthy("etcd refused: unhealthy cluster")


def test_a_removal_whose_answer_was_lost_is_reported_as_done() -> None:
    # 503 "server stopped": the member removed through itself stopped before answering.
    members = Scripted([(False, unhealthy()), (True, unhealthy())])
    removed = members.remove("controller-2", retry_for=5)
    assert removed is not None and removed.name == "controller-2"
    assert members.removes == 2


def test_a_lost_connection_then_not_found_on_the_next_endpoint_is_done() -> None:
    members = Scripted([(True, KubeOperationFailed("etcd refused: 404 member not found"))])
    removed = members.remove("controller-2")
    assert removed is not None and removed.id == "3"


def test_a_refusal_that_removed_nothing_is_raised() -> None:
    refused = KubeOperationFailed("etcd refused: 400 bad request")
    members = Scripted([(False, refused)])
    with pytest.raises(KubeOperationFailed, match="400"):
        members.remove("controller-2")
    assert members.removes == 1  # not retried: only etcd's "unhealthy" is passing
    assert len(members.members) == 3


def test_unhealthy_is_retried_until_the_deadline_then_raised() -> None:
    members = Scripted([(False, unhealthy())] * 10)
    with pytest.raises(KubeOperationFailed, match="unhealthy"):
        members.remove("controller-2", retry_for=0.6)
    assert 2 <= members.removes <= 3  # every 0.5 s until a refusal comes past 0.6 s
    assert len(members.members) == 3
