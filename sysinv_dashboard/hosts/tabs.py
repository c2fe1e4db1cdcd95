"""A host's detail: overview (with inventory) and labels."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from horizon import tabs

from sysinv_dashboard.hosts.tables import LabelsTable
from sysinv_dashboard.views_common import fetch

OVERVIEW = (
    ("hostname", _("Host Name")), ("uuid", _("UUID")), ("personality", _("Personality")),
    ("subfunctions", _("Subfunctions")), ("administrative", _("Admin State")),
    ("operational", _("Operational State")), ("availability", _("Availability")),
    ("config_status", _("Config Status")), ("mgmt_mac", _("Management MAC")),
    ("mgmt_ip", _("Management IP")), ("boot_device", _("Boot Device")),
    ("rootfs_device", _("Root FS Device")), ("install_state", _("Install State")),
    ("created_at", _("Created")), ("updated_at", _("Updated")),
)  # fmt: skip


class OverviewTab(tabs.Tab):
    name = _("Overview")
    slug = "overview"
    template_name = "sysinv_dashboard/_detail_overview.html"

    def get_context_data(self, request: Any) -> dict[str, Any]:
        host: dict[str, Any] = self.tab_group.kwargs["host"]
        return {"fields": [(label, host.get(key)) for key, label in OVERVIEW]}


class InventoryTab(tabs.Tab):
    """Every other attribute sysinv reports for the host, by name."""

    name = _("Inventory")
    slug = "inventory"
    template_name = "sysinv_dashboard/_detail_overview.html"

    def get_context_data(self, request: Any) -> dict[str, Any]:
        host: dict[str, Any] = self.tab_group.kwargs["host"]
        shown = {key for key, _label in OVERVIEW} | {"links", "id"}
        rest = sorted((k, v) for k, v in host.items() if k not in shown)
        return {"fields": [(key, "" if value is None else value) for key, value in rest]}


class LabelsTab(tabs.TableTab):
    name = _("Labels")
    slug = "labels"
    table_classes = (LabelsTable,)
    template_name = "horizon/common/_detail_table.html"
    preload = True

    def get_labels_data(self) -> list[dict[str, Any]]:
        host_id = self.tab_group.kwargs["host_id"]
        return fetch(self.request, lambda api: api.labels(host_id), [])


class HostTabs(tabs.DetailTabsGroup):
    slug = "host_details"
    tabs = (OverviewTab, InventoryTab, LabelsTab)
    sticky = True
