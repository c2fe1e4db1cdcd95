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
