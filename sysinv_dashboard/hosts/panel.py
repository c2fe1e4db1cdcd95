from __future__ import annotations

import horizon
from django.utils.translation import gettext_lazy as _


class Hosts(horizon.Panel):
    name = _("Hosts")
    slug = "sysinv_hosts"
