from __future__ import annotations

import horizon
from django.utils.translation import gettext_lazy as _


class Applications(horizon.Panel):
    name = _("Applications")
    slug = "sysinv_applications"
