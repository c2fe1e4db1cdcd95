"""Looking applications up, as the API and the conductor both do."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sysinv_common.db.models import App
from sysinv_common.errors import InvalidInput, NotFound


def get_app(session: Session, name: str, for_update: bool = False) -> App:
    """The app called ``name``; NotFound (404) as a GET answers it."""
    query = select(App).where(App.name == name)
    app = session.scalars(query.with_for_update() if for_update else query).first()
    if app is None:
        raise NotFound(f"Application {name} not found.")
    return app


def app_for(session: Session, name: str, op: str, for_update: bool = False) -> App:
    """The app an operation names; sysinv answers a missing one with 400, not 404."""
    try:
        return get_app(session, name, for_update)
    except NotFound:
        raise InvalidInput(f"Application-{op} rejected: application {name} not found.") from None


def app_named(session: Session, name: str | None) -> App:
    """The app a chart request names; StarlingX answers a missing one with 400."""
    if not name:
        raise InvalidInput("Application name must be specified.")
    try:
        return get_app(session, name)
    except NotFound:
        raise InvalidInput(f"Application {name} not found.") from None


def list_apps(session: Session) -> list[App]:
    return list(session.scalars(select(App).order_by(App.name)).all())
