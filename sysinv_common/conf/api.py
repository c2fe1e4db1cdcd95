"""Settings of the REST API process."""

from enum import StrEnum

from pydantic import BaseModel, Field


class AuthMode(StrEnum):
    NONE = "none"
    KEYSTONE = "keystone"


class ApiSettings(BaseModel):
    bind_host: str = Field("127.0.0.1", description="Address the API listens on.")
    port: int = Field(
        6385, ge=1, le=65535, description="Port the API listens on (sysinv's is 6385)."
    )
    auth: AuthMode = Field(
        AuthMode.KEYSTONE,
        description=(
            "'keystone' validates X-Auth-Token against the keystone settings; 'none' treats "
            "every caller as admin (the embedded mode's default, announced at every start)."
        ),
    )
    webhook_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description=(
            "Port of the Kubernetes token webhook (TokenReview through Keystone), served "
            "over TLS beside the API; unset: not served."
        ),
    )
    webhook_cert_file: str | None = Field(
        None, description="The webhook's TLS certificate (PEM, from the platform CA)."
    )
    webhook_key_file: str | None = Field(None, description="Its private key (PEM, 0600).")
    threads: int = Field(
        40,
        ge=1,
        le=1000,
        description=(
            "Requests the API works on at once: the size of the thread pool its handlers "
            "run in (anyio's default, 40). Each holds at most one database connection at a "
            "time, so every process's connection pool keeps at least this many plus "
            "messaging.call_workers (database.pool_size is raised to it)."
        ),
    )
    limit_max: int = Field(
        1000,
        ge=1,
        description=(
            "Largest page of a paged list (GET /v1/ihosts?limit=N), as StarlingX's "
            "api.limit_max: a larger limit gets this many and a next link. A list asked "
            "without a limit is answered whole, for clients that do not page."
        ),
    )
    max_request_bytes: int = Field(
        64 * 1024 * 1024, description="Largest request body accepted (uploads are base64)."
    )
