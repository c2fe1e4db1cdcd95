"""Query-string values as sysinv's clients send them."""

from __future__ import annotations

from sysinv_common.errors import InvalidInput

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_bool(name: str, value: str | None, default: bool = False) -> bool:
    """``True``/``False`` (Python-style, as the client sends them) and the usual spellings."""
    if value is None or value == "":
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidInput(f"Invalid value for {name}: '{value}' (expected True or False)")
