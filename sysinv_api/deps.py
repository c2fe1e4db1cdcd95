"""Dependencies handlers declare: the database and the conductor client.

Handlers open their transaction with ``db.session()`` themselves, so that it commits
before the response is sent rather than in a dependency's teardown.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sysinv_common.db.engine import Database
from sysinv_common.messaging.client import ConductorClient


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_conductor(request: Request) -> ConductorClient:
    client: ConductorClient = request.app.state.conductor
    return client


DatabaseDep = Annotated[Database, Depends(get_db)]
ConductorDep = Annotated[ConductorClient, Depends(get_conductor)]
