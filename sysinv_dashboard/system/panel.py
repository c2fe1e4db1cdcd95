from __future__ import annotations

import horizon
from django.utils.translation import gettext_lazy as _


class System(horizon.Panel):
    name = _("System")
    slug = "sysinv_system"
