"""Application objects on the wire, with the keys of sysinv's own app object."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sysinv_api.schemas.common import iso
from sysinv_common.db.models import App


class AppOut(BaseModel):
    """sysinv's application object."""

    model_config = ConfigDict(extra="allow")

    name: str
    app_version: str
    manifest_name: str | None
    manifest_file: str | None
    status: str
    progress: str | None = Field(
        description="what the running operation does, or how the last ended"
    )
    active: bool


class AppDetail(AppOut):
    """sysinv's application object, as one is shown (lists leave the times out)."""

    created_at: str | None
    updated_at: str | None


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


class ChartEntry(BaseModel):
    name: str
    namespaces: list[str]
    enabled: list[bool] = Field(description="per namespace, in the same order")


class ChartList(BaseModel):
    """``helm-override-list``: the application's charts."""

    charts: list[ChartEntry]


class ChartOverridesOut(BaseModel):
    """``helm-override-show``: a chart's overrides in one namespace, each as YAML."""

    name: str
    namespace: str
    attributes: str | None = None
    system_overrides: str | None
    user_overrides: str | None
    combined_overrides: str | None
    system_overrides_note: str | None = None


class ChartUpdatedOut(BaseModel):
    """``helm-override-update`` / ``helm-chart-attribute-modify``: what is stored now."""

    name: str
    namespace: str
    user_overrides: str | None = None
    attributes: dict[str, bool] | None = None
