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


class DriftObject(BaseModel):
    """One object of the app's releases that is not as helm deployed it."""

    chart: str
    release: str
    api_version: str
    kind: str
    namespace: str | None
    name: str
    state: str = Field(description="``changed`` or ``deleted``")
    fields: list[str] = Field(description="paths of the fields the chart set that changed")
    since: str = Field(description="when the audit first found it so")


class DriftOut(BaseModel):
    """What the last drift audit found (docs/drift.md)."""

    drifted: bool
    since: str | None = Field(description="when the oldest drift still there was first seen")
    checked_at: str
    error: str | None = Field(description="why the last round could not compare, if it could not")
    objects: list[DriftObject]


class AppDetail(AppOut):
    """sysinv's application object, as one is shown (lists leave the times out)."""

    created_at: str | None
    updated_at: str | None
    drift: DriftOut | None = Field(
        None,
        description="the drift audit's finding on an applied app; null until it looked",
    )


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
