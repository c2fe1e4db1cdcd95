"""Application objects on the wire, with the keys of sysinv's own app object."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from sysinv_api.schemas.common import iso
from sysinv_common.db.models import App


class AppOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    app_version: str
    manifest_name: str | None
    manifest_file: str | None
    status: str
    progress: str | None
    active: bool


class AppList(BaseModel):
    apps: list[AppOut]


def app_out(app: App, *, timestamps: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": app.name,
        "app_version": app.app_version,
        "manifest_name": app.manifest_name,
        "manifest_file": app.manifest_file,
        "status": app.status,
        "progress": app.progress,
        "active": app.active,
    }
    if timestamps:
        out["created_at"] = iso(app.created_at)
        out["updated_at"] = iso(app.updated_at)
    return out
