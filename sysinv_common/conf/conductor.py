"""The conductor's place among conductors: its host, and the lease of its singleton duties."""

from pydantic import BaseModel, Field


class ConductorSettings(BaseModel):
    host: str | None = Field(
        None,
        description=(
            "The hostname of the host this conductor runs on, as sysinv names it "
            "(controller-0): the conductor of the active controller runs the periodic "
            "audits (default: the machine's hostname)."
        ),
    )
    duty_lease: float = Field(
        30.0,
        gt=0,
        description=(
            "Seconds the lease of the periodic audits lasts: the conductor holding it renews "
            "it every third of that; when no active controller's conductor runs them, "
            "another conductor takes them over only once it expired."
        ),
    )
