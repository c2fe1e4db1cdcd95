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
        AuthMode.NONE,
        description="'keystone' validates X-Auth-Token; 'none' treats every caller as admin.",
    )
    max_request_bytes: int = Field(
        64 * 1024 * 1024, description="Largest request body accepted (uploads are base64)."
    )
