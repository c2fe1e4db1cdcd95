"""The registry token endpoint's answer (Docker's token authentication)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RegistryTokenOut(BaseModel):
    """A token for the local registry, for the access the caller's roles allow."""

    token: str = Field(description="a JWT (ES256) the registry checks")
    access_token: str = Field(description="the same token (OAuth2 clients read this key)")
    expires_in: int = Field(description="seconds")
    issued_at: str = Field(description="RFC 3339, UTC")
