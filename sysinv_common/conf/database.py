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
            "Connections each process keeps open (PostgreSQL); SQLite needs no pool. Each "
            "of the conductor's call_workers and the API's request threads holds one at a time."
        ),
    )
    max_overflow: int = Field(
        30, ge=0, description="Connections a process may open beyond pool_size under load."
    )
