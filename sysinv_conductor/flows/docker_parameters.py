"""The ``docker`` service parameters as the nodes' and the image copy's settings."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from sysinv_common import service_parameters as schema
from sysinv_common.conf.registry import ImageSource
from sysinv_common.db.models import ServiceParameter

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class DockerParameters:
    """What the ``docker`` service parameters say, secrets decrypted when a key is given."""

    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None
    #: Source registry -> where its images are read from.
    mirrors: dict[str, ImageSource] = field(default_factory=dict)
    username: str | None = None
    password: str | None = None


def docker_parameters(s: Session, fernet: Fernet | None = None) -> DockerParameters:
    rows: Iterable[ServiceParameter] = s.scalars(
        select(ServiceParameter).where(ServiceParameter.service == schema.DOCKER)
    )
    values: dict[tuple[str, str], str] = {(r.section, r.name): r.value for r in rows}
    password = values.get((schema.LOCAL_REGISTRY, "password"))
    if password is not None:
        try:
            password = fernet.decrypt(password.encode()).decode() if fernet else None
        except InvalidToken:
            LOG.error("docker local-registry password cannot be decrypted: key file replaced?")
            password = None
    mirrors = {
        source: ImageSource(
            url=values[(section, "url")],
            insecure=values.get((section, "secure"), "True").lower() == "false",
        )
        for section, source in schema.REGISTRY_SECTIONS.items()
        if (section, "url") in values
    }
    return DockerParameters(
        http_proxy=values.get((schema.PROXY, "http_proxy")),
        https_proxy=values.get((schema.PROXY, "https_proxy")),
        no_proxy=values.get((schema.PROXY, "no_proxy")),
        mirrors=mirrors,
        username=values.get((schema.LOCAL_REGISTRY, "username")),
        password=password,
    )
