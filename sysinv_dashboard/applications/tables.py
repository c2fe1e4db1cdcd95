"""The applications table: actions by state, rows refreshing while an operation runs."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from horizon import tables

from sysinv_dashboard.access import may_write
from sysinv_dashboard.api import Sysinv
from sysinv_dashboard.views_common import act

#: Horizon polls a row while its status maps to None (an operation is running).
STATUS_CHOICES = (
    ("uploaded", True), ("applied", True),
    ("upload-failed", False), ("apply-failed", False), ("remove-failed", False),
    ("update-failed", False),
    ("uploading", None), ("applying", None), ("removing", None), ("updating", None),
)  # fmt: skip
RUNNING = {"uploading", "applying", "removing", "updating"}


class UploadApp(tables.LinkAction):
    name = "upload"
    verbose_name = _("Upload Application")
    url = "horizon:platform:sysinv_applications:upload"
    classes = ("ajax-modal",)
    icon = "upload"

    def allowed(self, request: Any, datum: Any = None) -> bool:
        return may_write(request)


class UpdateApp(tables.LinkAction):
    name = "update"
    verbose_name = _("Update Application")
    classes = ("ajax-modal",)
    icon = "refresh"

    def allowed(self, request: Any, datum: Any = None) -> bool:
        # sysinv updates an applied application only (sysinv_common/states/app.py).
        return may_write(request) and datum is not None and datum.get("status") == "applied"

    def get_link_url(self, datum: Any = None) -> str:
        return str(reverse("horizon:platform:sysinv_applications:update", args=(datum["name"],)))


class _Directive(tables.BatchAction):
    #: Horizon asks for confirmation before a "danger" action.
    danger = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.danger:
            self.action_type = "danger"

    directive = ""
    #: the states in which sysinv accepts the directive
    states: frozenset[str] = frozenset()

    def allowed(self, request: Any, datum: Any = None) -> bool:
        return may_write(request) and datum is not None and datum.get("status") in self.states

    def action(self, request: Any, obj_id: str) -> None:
        act(request, lambda api: api.app_directive(obj_id, self.directive))


class ApplyApp(_Directive):
    name = "apply"
    directive = "apply"
    states = frozenset({"uploaded", "applied", "apply-failed", "remove-failed", "update-failed"})
    help_text = _("Installs or upgrades the application's charts.")

    @staticmethod
    def action_present(count: int) -> Any:
        return ngettext_lazy("Apply Application", "Apply Applications", count)

    @staticmethod
    def action_past(count: int) -> Any:
        return ngettext_lazy("Applying Application", "Applying Applications", count)


class RemoveApp(_Directive):
    name = "remove"
    directive = "remove"
    states = frozenset({"applied", "apply-failed", "remove-failed", "update-failed"})
    danger = True
    help_text = _("Uninstalls the application's charts.")

    @staticmethod
    def action_present(count: int) -> Any:
        return ngettext_lazy("Remove Application", "Remove Applications", count)

    @staticmethod
    def action_past(count: int) -> Any:
        return ngettext_lazy("Removing Application", "Removing Applications", count)


class AbortApp(_Directive):
    name = "abort"
    directive = "abort"
    states = frozenset(RUNNING)
    danger = True
    help_text = _("Stops the running operation.")

    @staticmethod
    def action_present(count: int) -> Any:
        return ngettext_lazy("Abort Operation", "Abort Operations", count)

    @staticmethod
    def action_past(count: int) -> Any:
        return ngettext_lazy("Aborted Operation", "Aborted Operations", count)


class DeleteApp(tables.DeleteAction):
    @staticmethod
    def action_present(count: int) -> Any:
        return ngettext_lazy("Delete Application", "Delete Applications", count)

    @staticmethod
    def action_past(count: int) -> Any:
        return ngettext_lazy("Deleted Application", "Deleted Applications", count)

    def allowed(self, request: Any, datum: Any = None) -> bool:
        states = {"uploaded", "upload-failed"}
        return may_write(request) and (datum is None or datum.get("status") in states)

    def delete(self, request: Any, obj_id: str) -> None:
        act(request, lambda api: api.app_delete(obj_id))


class AppRow(tables.Row):
    ajax = True

    def get_data(self, request: Any, app_name: str) -> dict[str, Any]:
        return Sysinv(request).app(app_name)


class AppsTable(tables.DataTable):
    name = tables.Column("name", verbose_name=_("Application"))
    app_version = tables.Column("app_version", verbose_name=_("Version"))
    manifest_name = tables.Column("manifest_name", verbose_name=_("Manifest"))
    status = tables.Column(
        "status", verbose_name=_("Status"), status=True, status_choices=STATUS_CHOICES
    )
    progress = tables.Column("progress", verbose_name=_("Progress"))

    def get_object_id(self, datum: dict[str, Any]) -> str:
        return str(datum["name"])

    def get_object_display(self, datum: dict[str, Any]) -> str:
        return str(datum["name"])

    class Meta:
        name = "applications"
        verbose_name = _("Applications")
        status_columns = ("status",)
        row_class = AppRow
        table_actions = (UploadApp,)
        row_actions = (ApplyApp, UpdateApp, RemoveApp, AbortApp, DeleteApp)
