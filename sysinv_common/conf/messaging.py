"""Settings of the task queues between the API, the conductor and the agents."""

from pydantic import BaseModel, Field


class MessagingSettings(BaseModel):
    broker_url: str = Field(
        "memory://",
        description=(
            "Celery broker. 'memory://' is the embedded mode: workers run inside the "
            "process that starts them. Production: redis://:PASSWORD@host:port/0, a Redis "
            "that requires a password (requirepass) or an ACL user (redis://USER:PASSWORD@...)."
        ),
    )
    result_backend: str | None = Field(
        None,
        description=(
            "Where call results travel; unset: the broker's Redis, or memory in embedded mode."
        ),
    )
    queue_prefix: str = Field(
        "sysinv",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description=(
            "First part of every queue name (<prefix>.conductor, <prefix>.agent.<host>); "
            "change it only to run several sysinv deployments on one broker."
        ),
    )
    call_timeout: float = Field(
        30.0, gt=0, description="Seconds an API call to the conductor waits for its answer."
    )
    call_workers: int = Field(
        16,
        ge=1,
        le=64,
        description=(
            "Calls one conductor handles at once (threads of its worker on "
            "<prefix>.conductor). Calls mostly wait on the database and Kubernetes, so "
            "more threads than cores serve concurrent writes faster; the embedded mode "
            "handles one at a time."
        ),
    )
