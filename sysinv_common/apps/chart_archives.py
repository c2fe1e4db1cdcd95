"""What the chart repository holds: one content per file name, and who holds each.

Every conductor keeps its own copy of the chart repository (chart archives named
``<chart>-<version>.tgz`` and the ``index.yaml`` helm makes of them); these rows say what
belongs in it, so that every conductor refuses, keeps and deletes alike. A file name
stands for one content (its sha256): an application version whose archive differs from
the one held under that name is refused, naming who holds it (a chart version should mean
one content; an application relying on the old one would change silently).

An application version *holds* the archives its bundle brought. A hold counts while its
application is at that version or moving to it (``apps.app_version`` or
``apps.target_version``); deleting the application deletes its holds (ON DELETE CASCADE).
An archive nobody holds is dropped by :func:`prune`, and then from each repository.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, exists, or_, select
from sqlalchemy.orm import Session

from sysinv_common.db.models import App, AppChartArchive, ChartArchive
from sysinv_common.errors import Conflict


@dataclass(frozen=True)
class Archive:
    """A chart archive of a bundle, as the chart repository would store it."""

    file_name: str
    digest: str
    #: How a refusal names it, e.g. ``chart hello-web 0.1.0 from charts/web.tgz``.
    label: str


@dataclass(frozen=True)
class Holder:
    app_id: int
    name: str
    version: str


def _at_version() -> ColumnElement[bool]:
    """The hold's application is at the hold's version, or moving to it."""
    return or_(
        App.app_version == AppChartArchive.app_version,
        App.target_version == AppChartArchive.app_version,
    )


def holders(session: Session, file_name: str) -> list[Holder]:
    """The application versions holding ``file_name`` now, by application name."""
    rows = session.execute(
        select(App.id, App.name, AppChartArchive.app_version)
        .join(AppChartArchive, AppChartArchive.app_id == App.id)
        .where(AppChartArchive.file_name == file_name, _at_version())
        .order_by(App.name, AppChartArchive.app_version)
    ).all()
    return [Holder(app_id, name, version) for app_id, name, version in rows]


def hold(session: Session, app_id: int, version: str, archives: Sequence[Archive]) -> list[str]:
    """Record that ``version`` of application ``app_id`` holds ``archives``; return the
    file names it did not hold before.

    An archive whose file name stands for other bytes that another application version
    holds is a :class:`Conflict` naming every such archive, its holders and what to do;
    the caller's transaction then records nothing. A name whose bytes nobody holds any
    more stands for the new bytes from now on.
    """
    conflicts: list[tuple[Archive, list[Holder]]] = []
    added: list[str] = []
    for archive in archives:
        row = session.get(ChartArchive, archive.file_name)
        if row is None:
            session.add(ChartArchive(file_name=archive.file_name, digest=archive.digest))
        elif row.digest != archive.digest:
            others = [
                h
                for h in holders(session, archive.file_name)
                if (h.app_id, h.version) != (app_id, version)
            ]
            if others:
                conflicts.append((archive, others))
                continue
            row.digest = archive.digest
        if session.get(AppChartArchive, (app_id, version, archive.file_name)) is None:
            session.add(
                AppChartArchive(app_id=app_id, app_version=version, file_name=archive.file_name)
            )
            added.append(archive.file_name)
    if conflicts:
        raise Conflict(_refusal(app_id, conflicts))
    session.flush()
    return added


def _who(holder: Holder, app_id: int) -> str:
    if holder.app_id == app_id:
        return f"this application's version {holder.version}"
    return f"application {holder.name} {holder.version}"


def _refusal(app_id: int, conflicts: Iterable[tuple[Archive, list[Holder]]]) -> str:
    parts: list[str] = []
    others: list[str] = []
    for archive, held_by in conflicts:
        who = " and ".join(_who(h, app_id) for h in held_by)
        verb = "holds" if len(held_by) == 1 else "hold"
        parts.append(
            f"chart archive {archive.file_name} ({archive.label}) differs from the "
            f"{archive.file_name} that {who} {verb} in the chart repository"
        )
        others += [h.name for h in held_by if h.app_id != app_id and h.name not in others]
    todo = "give the chart a new version (version in its Chart.yaml) and package it again"
    if others:
        apps = "application" if len(others) == 1 else "applications"
        todo += f", or delete {apps} {' and '.join(others)} first"
    return f"{'; '.join(parts)}. A chart version stands for one content: {todo}"


def release(
    session: Session, app_id: int, version: str, file_names: Collection[str] | None = None
) -> None:
    """Drop the holds of ``version`` of application ``app_id`` (only on ``file_names``,
    when given); :func:`prune` then drops the archives nobody holds."""
    statement = delete(AppChartArchive).where(
        AppChartArchive.app_id == app_id, AppChartArchive.app_version == version
    )
    if file_names is not None:
        statement = statement.where(AppChartArchive.file_name.in_(list(file_names)))
    session.execute(statement.execution_options(synchronize_session=False))


def prune(session: Session) -> set[str]:
    """Drop the holds of versions their application left, then the archives nobody holds;
    return the file names still listed (what each chart repository keeps)."""
    session.execute(
        delete(AppChartArchive)
        .where(~exists().where(App.id == AppChartArchive.app_id, _at_version()))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(ChartArchive)
        .where(~exists().where(AppChartArchive.file_name == ChartArchive.file_name))
        .execution_options(synchronize_session=False)
    )
    return listed(session)


def listed(session: Session) -> set[str]:
    return set(session.scalars(select(ChartArchive.file_name)))


def adopt(
    session: Session, file_name: str, digest: str, held_by: Iterable[tuple[int, str]]
) -> bool:
    """Record an archive a chart repository had before this table existed, held by the
    given (application id, version) pairs; False if the name is listed already."""
    if session.get(ChartArchive, file_name) is not None:
        return False
    session.add(ChartArchive(file_name=file_name, digest=digest))
    session.flush()
    for app_id, version in held_by:
        session.add(AppChartArchive(app_id=app_id, app_version=version, file_name=file_name))
    session.flush()
    return True


__all__ = [
    "Archive",
    "Holder",
    "adopt",
    "hold",
    "holders",
    "listed",
    "prune",
    "release",
]
