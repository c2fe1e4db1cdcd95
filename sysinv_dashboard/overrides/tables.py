"""Every application's charts: namespace, enabled; edit user overrides, enable, disable."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from horizon import tables

from sysinv_dashboard.access import may_write
from sysinv_dashboard.overrides.ids import split_id
from sysinv_dashboard.views_common import act


class EditOverrides(tables.LinkAction):
    name = "edit"
    verbose_name = _("Edit User Overrides")
    classes = ("ajax-modal",)
    icon = "pencil"

    def allowed(self, request: Any, datum: Any = None) -> bool:
        return may_write(request)

    def get_link_url(self, datum: Any = None) -> str:
        return str(reverse("horizon:platform:sysinv_overrides:edit", args=(datum["id"],)))


class _Toggle(tables.BatchAction):
    enable = True

    def allowed(self, request: Any, datum: Any = None) -> bool:
        return may_write(request) and (datum is None or datum["enabled"] != self.enable)

    def action(self, request: Any, obj_id: str) -> None:
        app, chart, namespace = split_id(obj_id)
        act(request, lambda api: api.chart_enable(app, chart, namespace, self.enable))


class EnableChart(_Toggle):
    name = "enable"
    enable = True
    help_text = _("The chart is deployed at the next apply.")

    @staticmethod
    def action_present(count: int) -> Any:
        return ngettext_lazy("Enable Chart", "Enable Charts", count)

    @staticmethod
    def action_past(count: int) -> Any:
        return ngettext_lazy("Enabled Chart", "Enabled Charts", count)


class DisableChart(_Toggle):
    name = "disable"
    enable = False
    help_text = _("The chart is left out of the next apply.")

    @staticmethod
    def action_present(count: int) -> Any:
        return ngettext_lazy("Disable Chart", "Disable Charts", count)

    @staticmethod
    def action_past(count: int) -> Any:
        return ngettext_lazy("Disabled Chart", "Disabled Charts", count)


def _detail_link(datum: dict[str, Any]) -> str:
    return str(reverse("horizon:platform:sysinv_overrides:detail", args=(datum["id"],)))


class ChartsTable(tables.DataTable):
    app = tables.Column("app", verbose_name=_("Application"))
    chart = tables.Column("chart", verbose_name=_("Chart"), link=_detail_link)
    namespace = tables.Column("namespace", verbose_name=_("Namespace"))
    enabled = tables.Column("enabled", verbose_name=_("Enabled"))

    def get_object_id(self, datum: dict[str, Any]) -> str:
        return str(datum["id"])

    def get_object_display(self, datum: dict[str, Any]) -> str:
        return f"{datum['chart']} ({datum['namespace']})"

    class Meta:
        name = "charts"
        verbose_name = _("Charts")
        row_actions = (EditOverrides, EnableChart, DisableChart)
