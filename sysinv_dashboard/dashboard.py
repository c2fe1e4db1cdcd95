"""The Platform dashboard: one panel group holding the sysinv panels."""

from __future__ import annotations

import horizon
from django.utils.translation import gettext_lazy as _


class Platform(horizon.Dashboard):
    name = _("Platform")
    slug = "platform"
    # Its panels and their group come from the enabled/ files.
    default_panel = "sysinv_hosts"


horizon.register(Platform)
