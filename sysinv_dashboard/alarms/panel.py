from __future__ import annotations

import horizon
from django.utils.translation import gettext_lazy as _


class Alarms(horizon.Panel):
    name = _("Alarms")
    slug = "sysinv_alarms"
