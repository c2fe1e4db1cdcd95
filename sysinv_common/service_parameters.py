"""The service parameters sysinv knows: which (service, section, name) exist, what each
value must look like, and which are secrets (stored encrypted, never answered).

StarlingX's ``docker`` sections where it has them: ``proxy`` and one section per source
registry (``docker-registry`` for docker.io, ``quay-registry``, ...) whose ``url`` is the
mirror its images are read from. ``local-registry`` is sysinv's own: the user the nodes
pull from the local registry as (a Keystone user; StarlingX keeps that in a Barbican
secret).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sysinv_common.db.models import ServiceParameter
from sysinv_common.errors import InvalidInput
from sysinv_common.messaging.rpcapi import ServiceParameterRow

DOCKER = "docker"
PROXY = "proxy"
LOCAL_REGISTRY = "local-registry"

#: The source registry each registry section stands for (StarlingX's names).
REGISTRY_SECTIONS: dict[str, str] = {
    "docker-registry": "docker.io",
    "quay-registry": "quay.io",
    "k8s-registry": "k8s.gcr.io",
    "gcr-registry": "gcr.io",
    "ghcr-registry": "ghcr.io",
    "elastic-registry": "docker.elastic.co",
    "registryk8s-registry": "registry.k8s.io",
    "icr-registry": "icr.io",
}

_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._/-]*)?")
_PROXY_URL = re.compile(r"(https?|socks5)://[^\s]+")
_NO_PROXY = re.compile(r"[^\s,]+(,[^\s,]+)*")
_BOOL = {"true", "false"}


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return check


def _boolean(value: str) -> str:
    if value.lower() not in _BOOL:
        raise ValueError("must be True or False")
    return value.capitalize()


def _text(value: str) -> str:
    if not value or len(value) > 255 or any(c in value for c in "\n\r\0"):
        raise ValueError("must be 1 to 255 characters on one line")
    return value


_REGISTRY_NAMES: dict[str, Callable[[str], str]] = {
    "url": _matching(_HOST, "host[:port][/path], e.g. mirror.example.com:5000"),
    "secure": _boolean,
}

#: (service, section) -> name -> validator (returns the value as stored).
SCHEMA: dict[tuple[str, str], dict[str, Callable[[str], str]]] = {
    (DOCKER, PROXY): {
        "http_proxy": _matching(_PROXY_URL, "a URL such as http://proxy.example.com:3128"),
        "https_proxy": _matching(_PROXY_URL, "a URL such as http://proxy.example.com:3128"),
        "no_proxy": _matching(_NO_PROXY, "a comma-separated list without spaces"),
    },
    (DOCKER, LOCAL_REGISTRY): {"username": _text, "password": _text},
    **{(DOCKER, section): _REGISTRY_NAMES for section in REGISTRY_SECTIONS},
}
SECRETS: frozenset[tuple[str, str, str]] = frozenset({(DOCKER, LOCAL_REGISTRY, "password")})
#: What a secret's value reads as in answers (StarlingX masks them the same way).
MASK = "****"


def is_secret(service: str, section: str, name: str) -> bool:
    return (service, section, name) in SECRETS


def validate(service: str, section: str, name: str, value: str) -> str:
    """The value to store, or InvalidInput naming what is wrong and what is allowed."""
    sections = sorted(sec for (svc, sec) in SCHEMA if svc == service)
    if not sections:
        services = sorted({svc for svc, _ in SCHEMA})
        raise InvalidInput(f"Unknown service '{service}': known are {', '.join(services)}")
    names = SCHEMA.get((service, section))
    if names is None:
        raise InvalidInput(
            f"Unknown section '{section}' of service {service}: known are {', '.join(sections)}"
        )
    check = names.get(name)
    if check is None:
        raise InvalidInput(
            f"Unknown parameter '{name}' in {service} {section}: known are "
            f"{', '.join(sorted(names))}"
        )
    try:
        return check(value)
    except ValueError as exc:
        shown = MASK if is_secret(service, section, name) else repr(value)
        raise InvalidInput(f"Invalid value {shown} for {service} {section} {name}: {exc}") from None


def row_out(row: ServiceParameter) -> ServiceParameterRow:
    """A parameter as answered: a secret's value masked."""
    secret = is_secret(row.service, row.section, row.name)
    return ServiceParameterRow(
        uuid=row.uuid, service=row.service, section=row.section, name=row.name,
        value=MASK if secret else row.value, personality=row.personality,
        resource=row.resource,
    )  # fmt: skip
