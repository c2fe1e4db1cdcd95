"""Fault management: alarm grace periods, event log retention, webhook delivery."""

from pydantic import BaseModel, Field


class FaultSettings(BaseModel):
    config_grace: float = Field(
        300.0,
        ge=0,
        description=(
            "Conductor: seconds a host may stay behind its configuration target before "
            "alarm 250.001 (configuration out of date) is raised."
        ),
    )
    event_log_max_rows: int = Field(
        10000, ge=1, description="The event log keeps this many newest rows; older ones go."
    )
    notify_interval: float = Field(
        2.0, gt=0, description="Conductor: seconds between looks for webhook deliveries due."
    )
    webhook_timeout: float = Field(
        10.0, gt=0, description="Conductor: seconds one webhook delivery may take."
    )
    webhook_attempts: int = Field(
        6,
        ge=1,
        description=(
            "Conductor: attempts of one webhook delivery; after the last failed one it is "
            "kept as a dead letter (status dead) and not tried again."
        ),
    )
    webhook_backoff: float = Field(
        5.0,
        gt=0,
        description=(
            "Conductor: seconds before the second attempt of a delivery; each further "
            "attempt waits twice as long as the one before."
        ),
    )
