"""The hosts table and the labels table of a host's Labels tab."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from horizon import tables

from sysinv_dashboard.access import may_write
from sysinv_dashboard.views_common import act

INDEX = "horizon:platform:sysinv_hosts:index"


class AddHost(tables.LinkAction):
    name = "add"
    verbose_name = _("Add Host")
    url = "horizon:platform:sysinv_hosts:add"
    classes = ("ajax-modal",)
    icon = "plus"

    def allowed(self, request: Any, datum: Any = None) -> bool:
        return may_write(request)


class _HostAction(tables.BatchAction):
    #: Horizon asks for confirmation before a "danger" action.
    danger = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.danger:
            self.action_type = "danger"

    #: the value of PATCH /action
    verb = ""

    def allowed(self, request: Any, datum: Any = None) -> bool:
        if not may_write(request):
            return False
        return datum is None or self.applies_to(datum)

    def applies_to(self, host: dict[str, Any]) -> bool:
        return True

    def action(self, request: Any, obj_id: str) -> None:
        act(request, lambda api: api.host_action(obj_id, self.verb))


class LockHost(_HostAction):
    name = "lock"
    verb = "lock"
    # Horizon confirms a "danger" action first (a locked host takes no workload).
    danger = True
    help_text = _("The host's Kubernetes node is cordoned.")

    @staticmethod
    def action_present(count: int) -> Any:
        return ngettext_lazy("Lock Host", "Lock Hosts", count)

    @staticmethod
    def action_past(count: int) -> Any:
        return ngettext_lazy("Locked Host", "Locked Hosts", count)

    def applies_to(self, host: dict[str, Any]) -> bool:
        return host.get("administrative") == "unlocked"


class UnlockHost(_HostAction):
    name = "unlock"
    verb = "unlock"
    help_text = _("The host's Kubernetes node is uncordoned.")

    @staticmethod
    def action_present(count: int) -> Any:
        return ngettext_lazy("Unlock Host", "Unlock Hosts", count)

    @staticmethod
    def action_past(count: int) -> Any:
        return ngettext_lazy("Unlocked Host", "Unlocked Hosts", count)

    def applies_to(self, host: dict[str, Any]) -> bool:
        return host.get("administrative") == "locked"


class DeleteHost(tables.DeleteAction):
    @staticmethod
    def action_present(count: int) -> Any:
        return ngettext_lazy("Delete Host", "Delete Hosts", count)

    @staticmethod
    def action_past(count: int) -> Any:
        return ngettext_lazy("Deleted Host", "Deleted Hosts", count)

    def allowed(self, request: Any, datum: Any = None) -> bool:
        # The API deletes locked hosts only.
        return may_write(request) and (datum is None or datum.get("administrative") == "locked")

    def delete(self, request: Any, obj_id: str) -> None:
        act(request, lambda api: api.host_delete(obj_id))


def _detail_link(host: dict[str, Any]) -> str:
    return str(reverse("horizon:platform:sysinv_hosts:detail", args=(host["uuid"],)))


class HostsTable(tables.DataTable):
    hostname = tables.WrappingColumn("hostname", verbose_name=_("Host Name"), link=_detail_link)
    personality = tables.Column("personality", verbose_name=_("Personality"))
    administrative = tables.Column("administrative", verbose_name=_("Admin State"))
    operational = tables.Column("operational", verbose_name=_("Operational State"))
    availability = tables.Column("availability", verbose_name=_("Availability"))
    config_status = tables.Column("config_status", verbose_name=_("Config Status"))

    def get_object_id(self, datum: dict[str, Any]) -> str:
        return str(datum["uuid"])

    def get_object_display(self, datum: dict[str, Any]) -> str:
        return str(datum.get("hostname") or datum["uuid"])

    class Meta:
        name = "hosts"
        verbose_name = _("Hosts")
        table_actions = (AddHost, DeleteHost)
        row_actions = (LockHost, UnlockHost, DeleteHost)


class AssignLabels(tables.LinkAction):
    name = "assign"
    verbose_name = _("Assign Labels")
    classes = ("ajax-modal",)
    icon = "plus"

    def allowed(self, request: Any, datum: Any = None) -> bool:
        return may_write(request)

    def get_link_url(self, datum: Any = None) -> str:
        host_id = self.table.kwargs["host_id"]
        return str(reverse("horizon:platform:sysinv_hosts:assign_labels", args=(host_id,)))


class RemoveLabel(tables.DeleteAction):
    @staticmethod
    def action_present(count: int) -> Any:
        return ngettext_lazy("Remove Label", "Remove Labels", count)

    @staticmethod
    def action_past(count: int) -> Any:
        return ngettext_lazy("Removed Label", "Removed Labels", count)

    def allowed(self, request: Any, datum: Any = None) -> bool:
        return may_write(request)

    def delete(self, request: Any, obj_id: str) -> None:
        act(request, lambda api: api.label_remove(obj_id))


class LabelsTable(tables.DataTable):
    label_key = tables.Column("label_key", verbose_name=_("Key"))
    label_value = tables.Column("label_value", verbose_name=_("Value"))

    def get_object_id(self, datum: dict[str, Any]) -> str:
        return str(datum["uuid"])

    def get_object_display(self, datum: dict[str, Any]) -> str:
        return str(datum["label_key"])

    class Meta:
        name = "labels"
        verbose_name = _("Labels")
        table_actions = (AssignLabels, RemoveLabel)
        row_actions = (RemoveLabel,)
