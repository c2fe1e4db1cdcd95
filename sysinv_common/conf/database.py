"""Database settings."""

from pydantic import BaseModel, Field


class DatabaseSettings(BaseModel):
    url: str | None = Field(
        None,
        description=(
            "SQLAlchemy URL, e.g. postgresql+psycopg://sysinv@db/sysinv. "
            "Unset: SQLite at <state_dir>/sysinv.db (embedded mode)."
        ),
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging only).")
    pool_size: int = Field(
        10,
        ge=1,
        description=(
            "Connections each process keeps for reuse once opened (on demand). Each of the "
            "conductor's call_workers and the API's request threads holds one at a time: "
            "it is raised to api.threads + messaging.call_workers when smaller (the "
            "embedded mode runs both in one process), so that no thread waits for a "
            "connection and none is opened and closed per request under load."
        ),
    )
    max_overflow: int = Field(
        30, ge=0, description="Connections a process may open beyond pool_size under load."
    )
