"""The system: its attributes, and a form changing the editable ones (admins only)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views import generic
from horizon import forms

from sysinv_dashboard.access import may_write
from sysinv_dashboard.api import Sysinv, SysinvError
from sysinv_dashboard.views_common import ModalForm, fetch

SHOWN = (
    ("name", _("Name")), ("uuid", _("UUID")), ("system_type", _("System Type")),
    ("system_mode", _("System Mode")), ("description", _("Description")),
    ("location", _("Location")), ("contact", _("Contact")), ("timezone", _("Time Zone")),
    ("software_version", _("Software Version")),
)  # fmt: skip
EDITABLE = ("name", "description", "location", "contact")


class IndexView(generic.TemplateView):
    template_name = "sysinv_dashboard/system.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        system: dict[str, Any] = fetch(self.request, lambda api: api.system(), {})
        context["fields"] = [(label, system.get(key)) for key, label in SHOWN]
        context["may_write"] = bool(system) and may_write(self.request)
        context["page_title"] = _("System")
        return context


class ModifyForm(forms.SelfHandlingForm):
    name = forms.CharField(label=_("Name"), max_length=255, required=False)
    description = forms.CharField(label=_("Description"), max_length=255, required=False)
    location = forms.CharField(label=_("Location"), max_length=255, required=False)
    contact = forms.CharField(label=_("Contact"), max_length=255, required=False)

    def handle(self, request: Any, data: dict[str, Any]) -> bool:
        try:
            api = Sysinv(request)
            system = api.system()
            changes = {k: v for k, v in data.items() if v != (system.get(k) or "")}
            if changes:
                api.system_modify(system["uuid"], changes)
        except SysinvError as exc:
            messages.error(request, str(exc))
            self.api_error(str(exc))
            return False
        messages.success(request, _("System modified."))
        return True


class ModifyView(ModalForm):
    form_class = ModifyForm
    form_id = "modify_system_form"
    modal_header = _("Modify System")
    page_title = _("Modify System")
    submit_label = _("Save")
    submit_url = reverse_lazy("horizon:platform:sysinv_system:modify")
    success_url = reverse_lazy("horizon:platform:sysinv_system:index")

    def get_initial(self) -> dict[str, Any]:
        system: dict[str, Any] = fetch(self.request, lambda api: api.system(), {})
        return {k: system.get(k) or "" for k in EDITABLE}
