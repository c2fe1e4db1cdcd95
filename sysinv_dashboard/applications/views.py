from __future__ import annotations

from typing import Any

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from horizon import forms, tables

from sysinv_dashboard.applications.forms import UploadForm
from sysinv_dashboard.applications.tables import AppsTable
from sysinv_dashboard.views_common import fetch


class IndexView(tables.DataTableView):
    table_class = AppsTable
    template_name = "horizon/common/_data_table_view.html"
    page_title = _("Applications")

    def get_data(self) -> list[dict[str, Any]]:
        return fetch(self.request, lambda api: api.apps(), [])


class UploadView(forms.ModalFormView):
    form_class = UploadForm
    form_id = "upload_app_form"
    template_name = "sysinv_dashboard/form.html"
    ajax_template_name = "sysinv_dashboard/_form.html"
    modal_header = _("Upload Application")
    page_title = _("Upload Application")
    submit_label = _("Upload")
    submit_url = reverse_lazy("horizon:platform:sysinv_applications:upload")
    success_url = reverse_lazy("horizon:platform:sysinv_applications:index")
