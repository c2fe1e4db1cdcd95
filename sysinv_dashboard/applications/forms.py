from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.utils.translation import gettext_lazy as _
from horizon import forms

from sysinv_dashboard.api import Sysinv, SysinvError


class UploadForm(forms.SelfHandlingForm):
    tarfile = forms.FileField(label=_("Application bundle (.tgz)"))

    def handle(self, request: Any, data: dict[str, Any]) -> Any:
        upload = data["tarfile"]
        try:
            app = Sysinv(request).app_upload(upload.name, upload.read())
        except SysinvError as exc:
            messages.error(request, str(exc))
            self.api_error(str(exc))
            return False
        messages.success(request, _("Uploading application %s.") % app.get("name", upload.name))
        return app


class UpdateForm(forms.SelfHandlingForm):
    app_name = forms.CharField(widget=forms.HiddenInput())
    tarfile = forms.FileField(label=_("New bundle of the application (.tgz)"))

    def handle(self, request: Any, data: dict[str, Any]) -> Any:
        upload = data["tarfile"]
        try:
            app = Sysinv(request).app_update(upload.name, upload.read())
        except SysinvError as exc:
            messages.error(request, str(exc))
            self.api_error(str(exc))
            return False
        # The answer is the application as it is now, still at its old version.
        messages.success(request, _("Updating application %s.") % app.get("name", data["app_name"]))
        return app
