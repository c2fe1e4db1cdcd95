"""What the OpenAPI document says beyond FastAPI's defaults: sysinv's error body on the
errors each operation really answers, the request bodies as the handlers read them, and
no 422 (validation failures are 400s in sysinv's format, see ``sysinv_api.errors``).

The handlers keep reading their bodies themselves, to answer sysinv's own 400s: the
request models here describe those bodies for the document; ``request_body`` puts one
in an operation and ``install`` adds the models to the document's components.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field, RootModel

ERROR_REF = "#/components/schemas/ErrorBody"


class ErrorBody(BaseModel):
    """sysinv's error body, as its own client reads it."""

    error_message: str = Field(
        description='A JSON string: {"faultstring": "<what went wrong>", "debuginfo": null}',
        examples=['{"faultstring": "Host not found: worker-9", "debuginfo": null}'],
    )


#: What each error status means, in every operation that can answer it.
MEANING = {
    400: "Invalid request: a bad or missing value, or a change the current state refuses "
    "(sysinv answers its conflicts with 400 too)",
    401: "No valid Keystone token (X-Auth-Token), when authentication is on",
    403: "The token's roles do not allow this (a reader writing), or the request is "
    "refused as such",
    404: "The named resource does not exist",
    502: "Kubernetes refused or failed the change; nothing was changed",
    503: "The database, the message broker or the conductor cannot be reached now; "
    "try again after Retry-After seconds",
}
#: What any authenticated operation may answer.
ALWAYS = (401, 403, 503)


def errors(*codes: int, always: tuple[int, ...] = ALWAYS) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of an operation that may answer ``codes`` and ``always`` (those of
    every authenticated operation)."""
    return {
        code: {"model": ErrorBody, "description": MEANING[code]}
        for code in sorted({*codes, *always})
    }


_REQUEST_MODELS: dict[str, type[BaseModel]] = {}


def request_body(
    model: type[BaseModel], content_type: str = "application/json", required: bool = True
) -> dict[str, Any]:
    """An operation's ``openapi_extra``: its request body is ``model``."""
    _REQUEST_MODELS[model.__name__] = model
    return {
        "requestBody": {
            "required": required,
            "content": {
                content_type: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    }


def install(app: FastAPI) -> None:
    """The document as above, built once (FastAPI caches ``app.openapi_schema``)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = build()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _REQUEST_MODELS.items():
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[name] = schema
        for ops in doc.get("paths", {}).values():
            for op in ops.values():
                op.get("responses", {}).pop("422", None)
                for media in op.get("requestBody", {}).get("content", {}).values():
                    ref = media.get("schema", {}).get("$ref")
                    if ref:  # ours (request_body), not FastAPI's untyped Body
                        media["schema"] = {"$ref": ref}
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


# -- request bodies ---------------------------------------------------------------------


class PatchOperation(BaseModel):
    """One operation of a JSON Patch (RFC 6902), as sysinv's PATCHes take them."""

    op: Literal["replace", "add", "remove"]
    path: str = Field(examples=["/hostname"], description="/<attribute>")
    value: Any = Field(None, description="the new value (not with remove)")


class JsonPatch(RootModel[list[PatchOperation]]):
    """A JSON Patch: the changes, applied together or not at all."""


class Location(BaseModel):
    locn: str | None = None


class HostCreate(BaseModel):
    """``host-add``: the new host's attributes (it starts locked)."""

    hostname: str | None = Field(None, description="required unless mgmt_mac names it later")
    personality: Literal["controller", "worker", "storage"] | None = None
    subfunctions: str | None = None
    mgmt_mac: str | None = None
    mgmt_ip: str | None = None
    bm_ip: str | None = None
    bm_type: str | None = None
    bm_username: str | None = None
    bm_password: str | None = None
    boot_device: str | None = None
    rootfs_device: str | None = None
    install_output: str | None = None
    console: str | None = None
    hw_settle: str | None = None
    clock_synchronization: str | None = None
    vsc_controllers: str | None = None
    ttys_dcd: bool | None = None
    location: Location | None = None


class HostsFile(BaseModel):
    """``host-bulk-add``: the hosts file (XML, as host-bulk-export writes it)."""

    file: bytes = Field(json_schema_extra={"format": "binary"})


class Labels(RootModel[dict[str, str]]):
    """The labels to assign: key to value."""


class AppBundle(BaseModel):
    """An application bundle: its bytes (base64, URL-safe) or where to fetch it."""

    tarfile: str | None = Field(
        None, description="the client's path of the tarball, a path under an import "
        "directory, or an http(s) URL of an allowed host",
    )  # fmt: skip
    binary_data: str | None = Field(None, description="the tarball, base64 (URL-safe)")
    name: str | None = Field(None, description="checked against the bundle's metadata")
    app_version: str | None = Field(None, description="checked against the bundle's metadata")


class AppUpload(AppBundle):
    images: bool | None = Field(None, description="push the bundle's images (accepted)")


class AppUpdate(AppBundle):
    reuse_user_overrides: bool | Literal["true", "false"] | None = Field(
        None, description="keep the user overrides (absent: the new metadata decides)"
    )
    reuse_attributes: bool | Literal["true", "false"] | None = Field(
        None, description="keep the chart attributes (absent: the new metadata decides)"
    )


class ApplyValues(BaseModel):
    mode: str | None = Field(None, description="an apply mode the app's metadata declares")
    client_side: bool | None = None


class AppDirective(BaseModel):
    """The body of ``?directive=apply|remove|abort``: only apply reads it."""

    values: ApplyValues | None = None


class ChartFlags(BaseModel):
    reuse_values: bool | None = None
    reset_values: bool | None = None


class ChartValues(BaseModel):
    files: list[str] = Field(default_factory=list, description="YAML documents of values")
    set: list[str] = Field(default_factory=list, description="KEY=VALUE, as helm --set")


class ChartAttributes(BaseModel):
    enabled: bool | Literal["true", "false"] | None = None


class ChartUpdateIn(BaseModel):
    """``helm-override-update`` and ``helm-chart-attribute-modify``."""

    flags: ChartFlags | None = None
    values: ChartValues | None = None
    attributes: ChartAttributes | None = None
