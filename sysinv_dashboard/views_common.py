"""What every view of the plugin shares: the API as the user, errors as Horizon messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from horizon import forms

from sysinv_dashboard.api import Sysinv, SysinvError

T = TypeVar("T")


def fetch(request: Any, call: Callable[[Sysinv], T], fallback: T) -> T:
    """``call`` with the user's API; on failure sysinv's faultstring as a message and
    ``fallback`` (a page still renders, never a Django error page)."""
    try:
        return call(Sysinv(request))
    except SysinvError as exc:
        messages.error(request, str(exc))
        return fallback


def act(request: Any, call: Callable[[Sysinv], object]) -> None:
    """A write from a table action: its failure is shown and raised, so the action
    reports the item as not done."""
    try:
        call(Sysinv(request))
    except SysinvError as exc:
        messages.error(request, str(exc))
        raise


class ModalForm(forms.ModalFormView):
    """A form of the plugin in Horizon's modal dialog (a full page without JavaScript)."""

    template_name = "sysinv_dashboard/form.html"
    ajax_template_name = "sysinv_dashboard/_form.html"
