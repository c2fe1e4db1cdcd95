"""Add a host; assign labels to one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from horizon import forms

from sysinv_dashboard import labels
from sysinv_dashboard.api import Sysinv, SysinvError

PERSONALITIES = [("controller", "controller"), ("worker", "worker"), ("storage", "storage")]


class AddHostForm(forms.SelfHandlingForm):
    hostname = forms.CharField(label=_("Host Name"), max_length=255)
    personality = forms.ChoiceField(label=_("Personality"), choices=PERSONALITIES)
    mgmt_mac = forms.CharField(label=_("Management MAC"), max_length=17, required=False)

    def handle(self, request: Any, data: dict[str, Any]) -> Any:
        fields = {k: v for k, v in data.items() if v}
        try:
            host = Sysinv(request).host_add(fields)
        except SysinvError as exc:
            messages.error(request, str(exc))
            self.api_error(str(exc))
            return False
        messages.success(request, _("Host %s added.") % data["hostname"])
        return host


class AssignLabelsForm(forms.SelfHandlingForm):
    host_id = forms.CharField(widget=forms.HiddenInput())
    labels = forms.CharField(
        label=_("Labels"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One key=value per line, as Kubernetes labels."),
    )
    overwrite = forms.BooleanField(
        label=_("Overwrite existing keys"), required=False, initial=False
    )

    def clean_labels(self) -> dict[str, str]:
        parsed, problems = labels.parse(self.cleaned_data["labels"])
        if problems:
            raise ValidationError(problems)
        return parsed

    def handle(self, request: Any, data: dict[str, Any]) -> bool:
        try:
            Sysinv(request).label_assign(data["host_id"], data["labels"], data["overwrite"])
        except SysinvError as exc:
            messages.error(request, str(exc))
            self.api_error(str(exc))
            return False
        messages.success(request, _("Labels assigned: %s") % ", ".join(data["labels"]))
        return True
