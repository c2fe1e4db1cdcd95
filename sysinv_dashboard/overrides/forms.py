from __future__ import annotations

from typing import Any

import yaml
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from horizon import forms

from sysinv_dashboard.api import Sysinv, SysinvError
from sysinv_dashboard.overrides.ids import split_id


class EditOverridesForm(forms.SelfHandlingForm):
    chart_id = forms.CharField(widget=forms.HiddenInput())
    user_overrides = forms.CharField(
        label=_("User overrides (YAML)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "class": "monospace"}),
        help_text=_("A YAML mapping of Helm values; empty deletes the user overrides."),
    )

    def clean_user_overrides(self) -> str:
        text = str(self.cleaned_data.get("user_overrides") or "")
        if not text.strip():
            return ""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValidationError(_("Not valid YAML: %s") % exc) from None
        if data is not None and not isinstance(data, dict):
            raise ValidationError(_("The overrides must be a YAML mapping of Helm values."))
        return text

    def handle(self, request: Any, data: dict[str, Any]) -> bool:
        app, chart, namespace = split_id(data["chart_id"])
        try:
            Sysinv(request).chart_user_overrides(app, chart, namespace, data["user_overrides"])
        except SysinvError as exc:
            messages.error(request, str(exc))
            self.api_error(str(exc))
            return False
        messages.success(request, _("User overrides of %(chart)s saved.") % {"chart": chart})
        return True
