"""Active alarms, newest first, the severity as a coloured label (read-only)."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from horizon import tables

#: Bootstrap's label colours, by sysinv's severities (docs/alarms.md).
SEVERITY_CLASS = {
    "critical": "label-danger",
    "major": "label-warning",
    "minor": "label-info",
    "warning": "label-default",
}


def severity_label(alarm: dict[str, Any]) -> SafeString:
    severity = str(alarm.get("severity", ""))
    css = SEVERITY_CLASS.get(severity, "label-default")
    return format_html(
        '<span class="label {}" data-severity="{}">{}</span>', css, severity, severity
    )


class AlarmsTable(tables.DataTable):
    alarm_id = tables.Column("alarm_id", verbose_name=_("Alarm ID"))
    severity = tables.Column(severity_label, verbose_name=_("Severity"))
    entity_instance_id = tables.Column("entity_instance_id", verbose_name=_("Entity"))
    reason_text = tables.WrappingColumn("reason_text", verbose_name=_("Reason"))
    timestamp = tables.Column("timestamp", verbose_name=_("Time Stamp"))

    def get_object_id(self, datum: dict[str, Any]) -> str:
        return str(datum["uuid"])

    def get_object_display(self, datum: dict[str, Any]) -> str:
        return f"{datum['alarm_id']} {datum['entity_instance_id']}"

    class Meta:
        name = "alarms"
        verbose_name = _("Active Alarms")
