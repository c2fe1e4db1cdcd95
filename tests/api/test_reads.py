"""Reads at scale: GETs beside a running write."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from tests.stack import Stack


def test_a_read_proceeds_while_a_write_holds_the_lock(api: Stack) -> None:
    """On SQLite a writing transaction holds the database's write lock (BEGIN IMMEDIATE)
    until it ends; GETs must not wait for it (on PostgreSQL they never did)."""
    host = api.add_host("worker-0")
    locked, release = threading.Event(), threading.Event()

    def writer() -> None:
        with api.db.session() as s:
            s.execute(text("UPDATE hosts SET console = 'ttyS0' WHERE id = :i"), {"i": host["id"]})
            locked.set()
            assert release.wait(30)

    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(writer)
        assert locked.wait(10)
        try:
            reads = [
                pool.submit(api.client.get, path)
                for path in (f"/v1/ihosts/{host['uuid']}", "/v1/ihosts", "/v1/isystems")
            ]
            answers = [r.result(timeout=5) for r in reads]
        finally:
            release.set()
        held.result(timeout=30)
    assert [a.status_code for a in answers] == [200, 200, 200]
    # The reads saw the state before the write committed.
    assert answers[0].json()["console"] is None


def test_a_read_session_refuses_to_write(api: Stack) -> None:
    host = api.add_host("worker-0")
    from sysinv_common.db.queries.hosts import find_host

    with pytest.raises(RuntimeError, match="read-only"), api.db.read_session() as s:
        find_host(s, host["uuid"]).console = "ttyS0"
        s.flush()
    assert api.client.get(f"/v1/ihosts/{host['uuid']}").json()["console"] is None


def test_host_answers_are_built_once(api: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The handlers build the answer of their response model's shape: FastAPI must not
    validate it again (its serialize_response) before sending it."""
    import fastapi.routing

    host = api.add_host("worker-0")
    seen: list[str] = []
    original = fastapi.routing.serialize_response

    async def counting(*args: object, **kwargs: object) -> object:
        field = kwargs.get("field")
        seen.append(str(getattr(field, "name", field)))
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fastapi.routing, "serialize_response", counting)
    listed = api.client.get("/v1/ihosts")
    shown = api.client.get(f"/v1/ihosts/{host['uuid']}")
    assert seen == []
    assert listed.headers["content-type"] == shown.headers["content-type"] == "application/json"
    assert [h["uuid"] for h in listed.json()["ihosts"]] == [shown.json()["uuid"]]
    assert set(listed.json()["ihosts"][0]) == set(shown.json()) == set(host)


def fault(r: object) -> str:
    import json

    assert r.status_code == 400, r.text  # type: ignore[attr-defined]
    return str(json.loads(r.json()["error_message"])["faultstring"])  # type: ignore[attr-defined]


def pages(api: Stack, first: str) -> list[dict[str, object]]:
    """Every page from ``first`` on, following ``next`` as StarlingX's collections give it."""
    out, url = [], first
    while url:
        body = api.client.get(url).json()
        out.append(body)
        url = body.get("next")
    return out


def test_host_list_pages_as_starlingx(api: Stack) -> None:
    names = [f"worker-{i}" for i in range(7)]
    added = {api.add_host(n)["uuid"]: n for n in names}
    everything = api.client.get("/v1/ihosts").json()
    assert set(everything) == {"ihosts"}  # no limit: every host, no next
    assert [h["hostname"] for h in everything["ihosts"]] == names
    got = pages(api, "/v1/ihosts?limit=3")
    assert [len(p["ihosts"]) for p in got] == [3, 3, 1]  # type: ignore[arg-type]
    first = got[0]
    assert first["next"] == (
        "http://testserver/v1/ihosts?sort_key=id&sort_dir=asc&limit=3"
        f"&marker={first['ihosts'][-1]['uuid']}"  # type: ignore[index]
    )
    assert "next" not in got[-1]
    listed = [h for p in got for h in p["ihosts"]]  # type: ignore[attr-defined]
    # (the conductor's Node sync may change a host in between: compare who, not what)
    assert [h["uuid"] for h in listed] == [h["uuid"] for h in everything["ihosts"]]
    # A last page exactly full: no next, no empty page after it.
    assert [len(p["ihosts"]) for p in pages(api, "/v1/ihosts?limit=7")] == [7]  # type: ignore[arg-type]
    by_name = pages(api, "/v1/ihosts?limit=2&sort_key=hostname&sort_dir=desc")
    assert [h["hostname"] for p in by_name for h in p["ihosts"]] == names[::-1]  # type: ignore[attr-defined]
    assert {h["uuid"] for h in listed} == set(added)


def test_host_list_sorts_nulls_the_same_on_both_databases(api: Stack) -> None:
    for i, mac in enumerate([None, "08:00:27:00:00:02", None, "08:00:27:00:00:01"]):
        api.add_host(f"worker-{i}", **({"mgmt_mac": mac} if mac else {}))
    for direction, expected in (
        ("asc", ["worker-0", "worker-2", "worker-3", "worker-1"]),
        ("desc", ["worker-1", "worker-3", "worker-2", "worker-0"]),
    ):
        for limit in (1, 2, 3):
            got = pages(api, f"/v1/ihosts?limit={limit}&sort_key=mgmt_mac&sort_dir={direction}")
            assert [h["hostname"] for p in got for h in p["ihosts"]] == expected  # type: ignore[attr-defined]


def test_host_list_limit_is_capped_at_limit_max(
    api: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.settings.api, "limit_max", 2)
    for i in range(3):
        api.add_host(f"worker-{i}")
    got = pages(api, "/v1/ihosts?limit=1000")
    assert [len(p["ihosts"]) for p in got] == [2, 1]  # type: ignore[arg-type]
    assert "limit=2&" in str(got[0]["next"])
    assert len(api.client.get("/v1/ihosts").json()["ihosts"]) == 3


def test_host_list_refuses_bad_paging(api: Stack) -> None:
    api.add_host("worker-0")
    assert fault(api.client.get("/v1/ihosts?sort_key=colour")).startswith(
        "Invalid sort_key 'colour': one of id, uuid, hostname"
    )
    assert fault(api.client.get("/v1/ihosts?sort_key=location")).startswith(
        "Invalid sort_key 'location'"
    )
    assert fault(api.client.get("/v1/ihosts?sort_dir=up")) == (
        "Invalid sort direction: up. Acceptable values are 'asc' or 'desc'"
    )
    assert fault(api.client.get("/v1/ihosts?limit=0")) == (
        "Invalid limit 0: must be a positive integer"
    )
    assert "limit" in fault(api.client.get("/v1/ihosts?limit=many"))
    missing = "0" * 8 + "-0000-0000-0000-" + "0" * 12
    assert fault(api.client.get(f"/v1/ihosts?limit=1&marker={missing}")) == (
        f"Invalid marker {missing}: no host has this uuid"
    )
    assert fault(api.client.get("/v1/ihosts?marker=worker-0")) == (
        "Invalid marker worker-0: no host has this uuid"
    )


def test_host_reads_are_one_statement_each(api: Stack) -> None:
    """A show reads the host with the system's uuid and version in one statement; a page
    of the list too (and the marker's row)."""
    from sqlalchemy import event

    hosts = [api.add_host(f"worker-{i}") for i in range(3)]
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        # The API's handlers' (the conductor's threads sync the new hosts meanwhile).
        api_thread = threading.current_thread().name.startswith("AnyIO worker")
        if api_thread and not statement.startswith(("BEGIN", "SELECT 1")):
            statements.append(statement)

    event.listen(api.db.engine, "before_cursor_execute", record)
    try:
        for path, count in (
            (f"/v1/ihosts/{hosts[0]['uuid']}", 1),
            ("/v1/ihosts/worker-1", 1),
            ("/v1/ihosts?limit=2", 1),
            (f"/v1/ihosts?limit=2&marker={hosts[1]['uuid']}", 2),
        ):
            statements.clear()
            assert api.client.get(path).status_code == 200
            assert len(statements) == count, (path, statements)
    finally:
        event.remove(api.db.engine, "before_cursor_execute", record)


def test_reads_on_postgresql_send_no_begin_nor_commit(api: Stack) -> None:
    """PostgreSQL's READ COMMITTED gives each statement its own snapshot: a read session
    runs in autocommit (two round trips fewer); a write session never does."""
    postgres = api.db.engine.dialect.name == "postgresql"
    for _ in range(3):  # the same pooled connections, back and forth
        with api.db.read_session() as s:
            raw = s.connection().connection.dbapi_connection
            assert getattr(raw, "autocommit", False) is postgres
        with api.db.session() as s:
            raw = s.connection().connection.dbapi_connection
            assert not getattr(raw, "autocommit", False)
