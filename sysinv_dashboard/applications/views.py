from __future__ import annotations

from typing import Any

from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from horizon import tables

from sysinv_dashboard.applications.forms import UpdateForm, UploadForm
from sysinv_dashboard.applications.tables import AppsTable
from sysinv_dashboard.views_common import ModalForm, fetch


class IndexView(tables.DataTableView):
    table_class = AppsTable
    template_name = "horizon/common/_data_table_view.html"
    page_title = _("Applications")

    def get_data(self) -> list[dict[str, Any]]:
        return fetch(self.request, lambda api: api.apps(), [])


class UploadView(ModalForm):
    form_class = UploadForm
    form_id = "upload_app_form"
    modal_header = _("Upload Application")
    page_title = _("Upload Application")
    submit_label = _("Upload")
    submit_url = reverse_lazy("horizon:platform:sysinv_applications:upload")
    success_url = reverse_lazy("horizon:platform:sysinv_applications:index")


class UpdateView(ModalForm):
    form_class = UpdateForm
    form_id = "update_app_form"
    modal_header = _("Update Application")
    page_title = _("Update Application")
    submit_label = _("Update")
    submit_url = "horizon:platform:sysinv_applications:update"
    success_url = reverse_lazy("horizon:platform:sysinv_applications:index")

    def get_initial(self) -> dict[str, Any]:
        return {"app_name": self.kwargs["app_name"]}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["submit_url"] = reverse(self.submit_url, args=(self.kwargs["app_name"],))
        return context
