"""The charts of every application, and one chart's overrides side by side."""

from __future__ import annotations

from typing import Any

from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views import generic
from horizon import exceptions, tables

from sysinv_dashboard.access import may_write
from sysinv_dashboard.api import Sysinv, SysinvError
from sysinv_dashboard.overrides.forms import EditOverridesForm
from sysinv_dashboard.overrides.ids import chart_id, split_id
from sysinv_dashboard.overrides.tables import ChartsTable
from sysinv_dashboard.views_common import ModalForm, fetch

INDEX = reverse_lazy("horizon:platform:sysinv_overrides:index")


def _enabled(chart: dict[str, Any], namespace: str) -> bool:
    """``enabled`` of the chart list: one flag per namespace, in the same order."""
    flags = chart.get("enabled")
    if not isinstance(flags, list):
        return bool(flags if flags is not None else True)
    namespaces = list(chart.get("namespaces", []))
    index = namespaces.index(namespace) if namespace in namespaces else -1
    return bool(flags[index]) if 0 <= index < len(flags) else True


def _rows(api: Sysinv) -> list[dict[str, Any]]:
    rows = []
    for app in api.apps():
        for chart in api.charts(app["name"]):
            for namespace in chart.get("namespaces", []):
                rows.append({
                    "id": chart_id(app["name"], chart["name"], namespace),
                    "app": app["name"], "chart": chart["name"], "namespace": namespace,
                    "enabled": _enabled(chart, namespace),
                })  # fmt: skip
    return rows


class IndexView(tables.DataTableView):
    table_class = ChartsTable
    template_name = "horizon/common/_data_table_view.html"
    page_title = _("Helm Overrides")

    def get_data(self) -> list[dict[str, Any]]:
        return fetch(self.request, _rows, [])


class DetailView(generic.TemplateView):
    template_name = "sysinv_dashboard/overrides.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        app, chart, namespace = split_id(self.kwargs["chart_id"])
        try:
            api = Sysinv(self.request)
            shown = api.chart(app, chart, namespace)
            enabled = next(
                (_enabled(c, namespace) for c in api.charts(app) if c["name"] == chart), True
            )
        except SysinvError as exc:
            exceptions.handle(self.request, str(exc), redirect=INDEX)
        context.update(
            page_title=_("%(app)s: %(chart)s in %(namespace)s")
            % {"app": app, "chart": chart, "namespace": namespace},
            columns=[
                (_("System overrides"), "system", shown.get("system_overrides")),
                (_("User overrides"), "user", shown.get("user_overrides")),
                (_("Combined overrides"), "combined", shown.get("combined_overrides")),
            ],
            note=shown.get("system_overrides_note"),
            enabled=enabled,
            may_write=may_write(self.request),
            edit_url=reverse(
                "horizon:platform:sysinv_overrides:edit", args=(self.kwargs["chart_id"],)
            ),
        )
        return context


class EditView(ModalForm):
    form_class = EditOverridesForm
    form_id = "edit_overrides_form"
    modal_header = _("Edit User Overrides")
    page_title = _("Edit User Overrides")
    submit_label = _("Save")
    submit_url = "horizon:platform:sysinv_overrides:edit"

    def get_initial(self) -> dict[str, Any]:
        app, chart, namespace = split_id(self.kwargs["chart_id"])
        shown: dict[str, Any] = fetch(
            self.request, lambda api: api.chart(app, chart, namespace), {}
        )
        return {"chart_id": self.kwargs["chart_id"], "user_overrides": shown.get("user_overrides")}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["submit_url"] = reverse(self.submit_url, args=(self.kwargs["chart_id"],))
        return context

    def get_success_url(self) -> str:
        return str(
            reverse("horizon:platform:sysinv_overrides:detail", args=(self.kwargs["chart_id"],))
        )
