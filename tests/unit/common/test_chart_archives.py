"""Which chart archives each application version holds, on a real (SQLite) database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from sysinv_common.apps import chart_archives
from sysinv_common.apps.chart_archives import Archive
from sysinv_common.db import migrate
from sysinv_common.db.engine import Database
from sysinv_common.db.models import App, AppChartArchive, ChartArchive
from sysinv_common.errors import Conflict

WEB = "hello-web-0.1.0.tgz"
CONFIG = "hello-config-0.1.0.tgz"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'apps.db'}")
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def make_app(db: Database, name: str, version: str = "1.0") -> int:
    with db.session() as s:
        app = App(name=name, app_version=version, status="uploading")
        s.add(app)
        s.flush()
        return app.id


def archive(file_name: str, digest: str) -> Archive:
    chart = file_name.removesuffix(".tgz")
    return Archive(file_name, digest, f"chart {chart} from charts/{file_name}")


def rows(db: Database) -> tuple[dict[str, str], set[tuple[int, str, str]]]:
    with db.session() as s:
        names = {r.file_name: r.digest for r in s.scalars(select(ChartArchive))}
        holds = {(h.app_id, h.app_version, h.file_name) for h in s.scalars(select(AppChartArchive))}
    return names, holds


def test_same_bytes_are_shared_other_bytes_refused_naming_the_holder(db: Database) -> None:
    first = make_app(db, "hello-app")
    second = make_app(db, "twin")
    third = make_app(db, "other-app", "2.0")
    with db.session() as s:
        added = chart_archives.hold(s, first, "1.0", [archive(WEB, "a"), archive(CONFIG, "c")])
    assert added == [WEB, CONFIG]
    with db.session() as s:  # identical bytes: held by both, nothing refused
        assert chart_archives.hold(s, second, "1.0", [archive(WEB, "a")]) == [WEB]
    with db.session() as s:  # a re-upload of the same bytes holds nothing new
        assert chart_archives.hold(s, second, "1.0", [archive(WEB, "a")]) == []
    before = rows(db)
    with pytest.raises(Conflict) as refused, db.session() as s:
        chart_archives.hold(s, third, "2.0", [archive("new-0.1.0.tgz", "n"), archive(WEB, "b")])
    assert str(refused.value) == (
        "chart archive hello-web-0.1.0.tgz (chart hello-web-0.1.0 from "
        "charts/hello-web-0.1.0.tgz) differs from the hello-web-0.1.0.tgz that application "
        "hello-app 1.0 and application twin 1.0 hold in the chart repository. A chart "
        "version stands for one content: give the chart a new version (version in its "
        "Chart.yaml) and package it again, or delete applications hello-app and twin first"
    )
    # Nothing of the refused call was recorded, not even its archive that was fine.
    assert rows(db) == before
    assert before[0] == {WEB: "a", CONFIG: "c"}


def test_an_update_cannot_change_its_own_old_version_s_archive(db: Database) -> None:
    app_id = make_app(db, "hello-app", "1.0")
    with db.session() as s:
        chart_archives.hold(s, app_id, "1.0", [archive(WEB, "a")])
        row = s.get(App, app_id)
        assert row is not None
        row.target_version = "2.0"
    with pytest.raises(Conflict) as refused, db.session() as s:
        chart_archives.hold(s, app_id, "2.0", [archive(WEB, "b")])
    message = str(refused.value)
    assert "that this application's version 1.0 holds in the chart repository" in message
    assert message.endswith("give the chart a new version (version in its Chart.yaml) and "
                            "package it again")  # fmt: skip
    with db.session() as s:  # the same bytes in the new version are fine
        assert chart_archives.hold(s, app_id, "2.0", [archive(WEB, "a")]) == [WEB]


def test_holds_of_a_version_the_app_left_do_not_count_and_are_pruned(db: Database) -> None:
    app_id = make_app(db, "hello-app", "1.0")
    other = make_app(db, "other-app")
    with db.session() as s:
        chart_archives.hold(s, app_id, "1.0", [archive(WEB, "a"), archive(CONFIG, "c")])
        chart_archives.hold(s, other, "1.0", [archive(CONFIG, "c")])
        row = s.get(App, app_id)
        assert row is not None
        row.app_version = "2.0"  # updated: 1.0's holds are stale
    with db.session() as s:
        assert chart_archives.holders(s, WEB) == []
        assert [h.name for h in chart_archives.holders(s, CONFIG)] == ["other-app"]
        assert chart_archives.prune(s) == {CONFIG}
    assert rows(db) == ({CONFIG: "c"}, {(other, "1.0", CONFIG)})
    with db.session() as s:  # the name is free again, for any content
        chart_archives.hold(s, other, "1.0", [archive(WEB, "b")])
    assert rows(db)[0] == {CONFIG: "c", WEB: "b"}


def test_a_name_nobody_holds_takes_the_new_bytes(db: Database) -> None:
    gone = make_app(db, "gone")
    app_id = make_app(db, "hello-app")
    with db.session() as s:
        chart_archives.hold(s, gone, "1.0", [archive(WEB, "a")])
    with db.session() as s:  # deleted, its archive not pruned yet
        s.execute(delete(App).where(App.id == gone))
    with db.session() as s:
        assert chart_archives.hold(s, app_id, "1.0", [archive(WEB, "b")]) == [WEB]
    assert rows(db) == ({WEB: "b"}, {(app_id, "1.0", WEB)})


def test_deleting_an_app_prunes_only_what_nobody_else_holds(db: Database) -> None:
    app_id = make_app(db, "hello-app")
    other = make_app(db, "other-app")
    with db.session() as s:
        chart_archives.hold(s, app_id, "1.0", [archive(WEB, "a"), archive(CONFIG, "c")])
        chart_archives.hold(s, other, "1.0", [archive(CONFIG, "c")])
    with db.session() as s:
        s.execute(delete(App).where(App.id == app_id))  # as the delete flow: cascades
    with db.session() as s:
        assert chart_archives.prune(s) == {CONFIG}
    assert rows(db) == ({CONFIG: "c"}, {(other, "1.0", CONFIG)})


def test_release_drops_the_named_holds_only(db: Database) -> None:
    app_id = make_app(db, "hello-app")
    with db.session() as s:
        chart_archives.hold(s, app_id, "1.0", [archive(WEB, "a"), archive(CONFIG, "c")])
        chart_archives.release(s, app_id, "1.0", [WEB])
        assert chart_archives.prune(s) == {CONFIG}
        chart_archives.release(s, app_id, "1.0")
        assert chart_archives.prune(s) == set()
    assert rows(db) == ({}, set())


def test_adopt_records_an_archive_from_before_the_table(db: Database) -> None:
    app_id = make_app(db, "hello-app")
    other = make_app(db, "other-app")
    with db.session() as s:
        assert chart_archives.adopt(s, WEB, "a", [(app_id, "1.0")])
        assert not chart_archives.adopt(s, WEB, "z", [(other, "1.0")])  # listed: left alone
    assert rows(db) == ({WEB: "a"}, {(app_id, "1.0", WEB)})
    with pytest.raises(Conflict, match=r"application hello-app 1\.0 holds"), db.session() as s:
        chart_archives.hold(s, other, "1.0", [archive(WEB, "b")])
