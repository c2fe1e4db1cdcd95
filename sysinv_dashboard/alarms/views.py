from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from horizon import tables

from sysinv_dashboard.alarms.tables import AlarmsTable
from sysinv_dashboard.views_common import fetch


class IndexView(tables.DataTableView):
    table_class = AlarmsTable
    template_name = "horizon/common/_data_table_view.html"
    page_title = _("Alarms")

    def get_data(self) -> list[dict[str, Any]]:
        alarms: list[dict[str, Any]] = fetch(self.request, lambda api: api.alarms(), [])
        # The count in the page header: "Active Alarms (3)".
        self.page_title = _("Active Alarms (%d)") % len(alarms)
        return alarms
