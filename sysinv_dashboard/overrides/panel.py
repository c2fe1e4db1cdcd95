from __future__ import annotations

import horizon
from django.utils.translation import gettext_lazy as _


class Overrides(horizon.Panel):
    name = _("Helm Overrides")
    slug = "sysinv_overrides"
