from __future__ import annotations

from typing import Any

from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from horizon import exceptions, tables, tabs

from sysinv_dashboard.api import Sysinv, SysinvError
from sysinv_dashboard.hosts import forms as host_forms
from sysinv_dashboard.hosts.tables import HostsTable
from sysinv_dashboard.hosts.tabs import HostTabs
from sysinv_dashboard.views_common import ModalForm, fetch

INDEX = reverse_lazy("horizon:platform:sysinv_hosts:index")


class IndexView(tables.DataTableView):
    table_class = HostsTable
    template_name = "horizon/common/_data_table_view.html"
    page_title = _("Hosts")

    def get_data(self) -> list[dict[str, Any]]:
        return fetch(self.request, lambda api: api.hosts(), [])


class AddView(ModalForm):
    form_class = host_forms.AddHostForm
    form_id = "add_host_form"
    modal_header = _("Add Host")
    page_title = _("Add Host")
    submit_label = _("Add Host")
    submit_url = reverse_lazy("horizon:platform:sysinv_hosts:add")
    success_url = INDEX


class DetailView(tabs.TabbedTableView):
    tab_group_class = HostTabs
    template_name = "sysinv_dashboard/detail.html"
    page_title = _("Host")

    def get_host(self) -> dict[str, Any]:
        if not hasattr(self, "_host"):
            try:
                self._host = Sysinv(self.request).host(self.kwargs["host_id"])
            except SysinvError as exc:
                exceptions.handle(self.request, str(exc), redirect=INDEX)
        return self._host

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        host = self.get_host()
        context["page_title"] = _("Host: %s") % host.get("hostname")
        context["host"] = host
        return context

    def get_tabs(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.tab_group_class(request, host=self.get_host(), **kwargs)


class AssignLabelsView(ModalForm):
    form_class = host_forms.AssignLabelsForm
    form_id = "assign_labels_form"
    modal_header = _("Assign Labels")
    page_title = _("Assign Labels")
    submit_label = _("Assign")
    submit_url = "horizon:platform:sysinv_hosts:assign_labels"

    def get_initial(self) -> dict[str, Any]:
        return {"host_id": self.kwargs["host_id"]}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["submit_url"] = reverse(self.submit_url, args=(self.kwargs["host_id"],))
        return context

    def get_success_url(self) -> str:
        url = reverse("horizon:platform:sysinv_hosts:detail", args=(self.kwargs["host_id"],))
        return f"{url}?tab=host_details__labels"
