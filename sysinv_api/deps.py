"""Dependencies handlers declare: the database and the conductor's API.

Handlers open their transaction with ``db.session()`` themselves, so that it commits
before the response is sent rather than in a dependency's teardown. The dependencies are
``async``: FastAPI runs a synchronous one in the thread pool, a hop per dependency per
request for what only reads ``app.state``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sysinv_common.db.engine import Database
from sysinv_common.messaging.rpcapi import ConductorAPI


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_conductor(request: Request) -> ConductorAPI:
    api: ConductorAPI = request.app.state.conductor
    return api


DatabaseDep = Annotated[Database, Depends(get_db)]
ConductorDep = Annotated[ConductorAPI, Depends(get_conductor)]
