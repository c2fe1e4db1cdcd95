"""Who may write: the same rule the API applies (docs/auth.md), so a reader sees no action."""

from __future__ import annotations

from typing import Any


def may_write(request: Any) -> bool:
    """True for a user holding Keystone's ``admin`` role in the current scope."""
    roles = getattr(request.user, "roles", None) or []
    return any(role.get("name") == "admin" for role in roles)
