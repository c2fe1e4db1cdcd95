"""Service parameters: the only writer of the ``service_parameters`` table.

Values are checked against ``sysinv_common.service_parameters``; a secret's value is
stored as a Fernet token of the conductor's secrets key and answered masked. Nothing
reaches the nodes until ``apply`` (StarlingX's ``service-parameter-apply``), which gives
every host whose configuration changed a new one.
"""

from __future__ import annotations

import logging

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sysinv_common import service_parameters as schema
from sysinv_common.db.models import ServiceParameter
from sysinv_common.errors import Conflict, InvalidInput, NotFound
from sysinv_common.messaging.rpcapi import (
    Empty,
    ServiceParameterAdd,
    ServiceParameterModify,
    ServiceParameters,
)
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import host_config

LOG = logging.getLogger(__name__)


def _stored(fernet: Fernet, service: str, section: str, name: str, value: str) -> str:
    value = schema.validate(service, section, name, value)
    if schema.is_secret(service, section, name):
        return fernet.encrypt(value.encode()).decode()
    return value


def add(ctx: ConductorContext, request: ServiceParameterAdd) -> ServiceParameters:
    if not request.parameters:
        raise InvalidInput("No parameters given: name=value, e.g. http_proxy=http://p:3128")
    fernet = ctx.secrets.fernet
    rows = [
        ServiceParameter(
            service=request.service,
            section=request.section,
            name=name,
            value=_stored(fernet, request.service, request.section, name, value),
            personality=request.personality,
            resource=request.resource,
        )
        for name, value in sorted(request.parameters.items())
    ]
    try:
        with ctx.db.session() as s:
            s.add_all(rows)
            s.flush()
            out = [schema.row_out(r) for r in rows]
    except IntegrityError:
        raise Conflict(
            f"Service parameter {request.service} {request.section} "
            f"{', '.join(sorted(request.parameters))} already exists: modify it instead"
        ) from None
    LOG.info("service parameters added: %s %s %s", request.service, request.section,
             ", ".join(sorted(request.parameters)))  # fmt: skip
    return ServiceParameters(parameters=out)


def _find(s: Session, uuid: str) -> ServiceParameter:
    row = s.scalars(select(ServiceParameter).where(ServiceParameter.uuid == uuid)).first()
    if row is None:
        raise NotFound(f"Service parameter not found: {uuid}")
    return row


def modify(ctx: ConductorContext, request: ServiceParameterModify) -> ServiceParameters:
    with ctx.db.session() as s:
        row = _find(s, request.uuid)
        row.value = _stored(ctx.secrets.fernet, row.service, row.section, row.name,
                            request.value)  # fmt: skip
        if request.personality is not None:
            row.personality = request.personality
        if request.resource is not None:
            row.resource = request.resource
        s.flush()
        LOG.info("service parameter modified: %s %s %s", row.service, row.section, row.name)
        return ServiceParameters(parameters=[schema.row_out(row)])


def delete(ctx: ConductorContext, uuid: str) -> Empty:
    with ctx.db.session() as s:
        row = _find(s, uuid)
        s.delete(row)
        LOG.info("service parameter deleted: %s %s %s", row.service, row.section, row.name)
    return Empty()


def apply(ctx: ConductorContext, service: str) -> Empty:
    if service not in {svc for svc, _ in schema.SCHEMA}:
        raise NotFound(f"Unknown service '{service}'")
    changed = host_config.refresh(ctx)
    LOG.info("%s service parameters applied: %d hosts get a new configuration", service,
             len(changed))  # fmt: skip
    return Empty()
