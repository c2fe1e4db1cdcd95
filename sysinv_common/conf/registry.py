"""The local image registry, and the tokens sysinv-api issues for it (Docker's token
authentication, checked against Keystone: docs/registry.md)."""

from pathlib import Path

from pydantic import BaseModel, Field

#: Where sysinv-api serves the registry's token endpoint (the registry's auth.token.realm).
TOKEN_PATH = "/v1/registry/token"


class ImageSource(BaseModel):
    """Where images of one source registry are read from (StarlingX's bootstrap
    ``docker_registries``): a mirror serving the same repositories, or the registry
    itself at another address."""

    url: str = Field(..., min_length=1, description="host[:port] to read from.")
    insecure: bool = Field(False, description="Plain HTTP instead of TLS.")
    ca_file: Path | None = Field(None, description="CA bundle to verify its certificate.")


class LocalRegistrySettings(BaseModel):
    address: str | None = Field(
        None,
        description=(
            "host:port of the local registry as sysinv reaches it; unset: "
            "bootstrap.registry.address. Unset both: applications' images are not "
            "copied at upload and nodes pull from where the charts say."
        ),
    )
    insecure: bool = Field(
        False, description="The local registry speaks plain HTTP (a lab or loopback one)."
    )
    images_at_upload: bool = Field(
        True,
        description=(
            "Copy every image an application uses into the local registry at upload; "
            "false: the images are put there by other means (the overrides still name "
            "the local registry)."
        ),
    )
    sources: dict[str, ImageSource] = Field(
        default_factory=dict,
        description=(
            "Per source registry (docker.io, quay.io, registry.k8s.io, ...), where its images "
            "are read from at upload; a registry not listed is read from itself (docker.io "
            "at registry-1.docker.io)."
        ),
    )
    platform: str = Field(
        "linux/amd64",
        pattern=r"^[a-z0-9]+/[a-z0-9]+(/[a-z0-9]+)?$",
        description="os/architecture[/variant] copied from multi-platform images.",
    )
    parallel_images: int = Field(
        4, ge=1, le=32, description="Images copied or pushed at once during an upload."
    )
    config_file: Path | None = Field(
        None,
        description=(
            "The local registry's config.yml on the conductor's host, which garbage "
            "collection switches to read-only and back; unset: no garbage collection."
        ),
    )
    binary: Path = Field(
        Path("/usr/bin/docker-registry"),
        description="The registry's program (its garbage-collect command).",
    )
    restart_command: list[str] = Field(
        default_factory=lambda: ["systemctl", "restart", "docker-registry"],
        min_length=1,
        description="How the conductor restarts the registry after changing its config_file.",
    )
    garbage_collect_timeout: float = Field(
        1800, gt=0, description="Seconds a garbage collection may run."
    )
    request_timeout: float = Field(
        60.0, gt=0, le=3600, description="Seconds one registry request may take."
    )
    service: str = Field(
        "sysinv-registry",
        min_length=1,
        description=(
            "The registry's auth.token.service: what clients name in their token requests, "
            "and every token's audience (aud)."
        ),
    )
    issuer: str = Field(
        "sysinv",
        min_length=1,
        description="The registry's auth.token.issuer: every token's issuer (iss).",
    )
    token_lifetime: int = Field(
        900, ge=60, le=86400, description="Seconds a registry token is valid (Docker asks >= 60)."
    )
    token_url: str | None = Field(
        None,
        description=(
            f"The token endpoint as Docker clients reach it, for the registry's "
            f"auth.token.realm (sysinv registry-token-cert prints it); unset: "
            f"keystone.public_url (else http://<api.bind_host>:<api.port>) + {TOKEN_PATH}."
        ),
    )
    signing_key_file: Path | None = Field(
        None,
        description=(
            "The key tokens are signed with (EC P-256, PEM), created 0600 at first use; "
            "default: <state_dir>/registry-token.key. Every sysinv-api of a deployment "
            "needs the same file."
        ),
    )
    certificate_file: Path | None = Field(
        None,
        description=(
            "Its self-signed certificate, written beside it for the registry's "
            "auth.token.rootcertbundle; default: <state_dir>/registry-token.crt."
        ),
    )
    user_domain_name: str = Field(
        "Default", min_length=1, description="Keystone domain of the users who log in."
    )
    credential_cache_seconds: float = Field(
        60.0,
        ge=0,
        le=3600,
        description=(
            "How long a username and password Keystone accepted, and the user's roles, are "
            "trusted without asking Keystone again (0: ask every time). Refusals are never "
            "remembered."
        ),
    )
