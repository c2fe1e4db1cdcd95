"""Syntax rules for host and label input, shared by the API and the conductor.

Label rules are Kubernetes' own (apimachinery's IsQualifiedName and IsValidLabelValue),
so that a label sysinv accepts is one the API server accepts too.
"""

from __future__ import annotations

import re

from sysinv_common.errors import InvalidInput

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_NAME_PART = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_SUBDOMAIN_PART = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def validate_hostname(value: object) -> str:
    """An RFC 1123 label (what Kubernetes requires of a Node name that is a hostname)."""
    if not isinstance(value, str) or not value:
        raise InvalidInput("Hostname is required and must be a non-empty string")
    if len(value) > 63:
        raise InvalidInput(f"Invalid hostname '{value}': longer than 63 characters")
    if not _DNS_LABEL.match(value):
        raise InvalidInput(
            f"Invalid hostname '{value}': use lower-case letters, digits and '-', "
            "starting and ending with a letter or digit (RFC 1123)"
        )
    return value


def normalize_mac(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput("Invalid MAC address: must be a string like 08:00:27:aa:bb:cc")
    mac = value.strip().lower().replace("-", ":")
    if not _MAC.match(mac):
        raise InvalidInput(
            f"Invalid MAC address '{value}': expected six hex pairs like 08:00:27:aa:bb:cc"
        )
    if mac == "00:00:00:00:00:00" or int(mac[:2], 16) & 1:
        raise InvalidInput(f"Invalid MAC address '{value}': not a unicast address")
    return mac


def validate_label_key(key: object) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidInput("Invalid label: the key is empty")
    prefix, sep, name = key.rpartition("/")
    if sep and not prefix:
        raise InvalidInput(f"Invalid label key '{key}': the prefix before '/' is empty")
    if "/" in prefix:
        raise InvalidInput(f"Invalid label key '{key}': at most one '/' is allowed")
    if prefix:
        if len(prefix) > 253:
            raise InvalidInput(
                f"Invalid label key '{key}': the prefix is longer than 253 characters"
            )
        if not _SUBDOMAIN_PART.match(prefix):
            raise InvalidInput(
                f"Invalid label key '{key}': the prefix must be a DNS subdomain "
                "(lower-case letters, digits, '-' and '.')"
            )
    if not name:
        raise InvalidInput(f"Invalid label key '{key}': the name after the prefix is empty")
    if len(name) > 63:
        raise InvalidInput(f"Invalid label key '{key}': the name is longer than 63 characters")
    if not _NAME_PART.match(name):
        raise InvalidInput(
            f"Invalid label key '{key}': the name must consist of letters, digits, '-', '_' "
            "or '.', and start and end with a letter or digit"
        )
    return key


def validate_label_value(key: str, value: object) -> str:
    if value is None:
        raise InvalidInput(f"Invalid label '{key}': a label needs a value (use key=value)")
    if not isinstance(value, str):
        raise InvalidInput(f"Invalid label '{key}': the value must be a string")
    if len(value) > 63:
        raise InvalidInput(f"Invalid value for label '{key}': longer than 63 characters")
    if value and not _NAME_PART.match(value):
        raise InvalidInput(
            f"Invalid value '{value}' for label '{key}': use letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return value


def validate_labels(body: object) -> dict[str, str]:
    """A flat ``{key: value}`` mapping of at least one valid label."""
    if not isinstance(body, dict):
        raise InvalidInput("Labels must be sent as a JSON object of key: value pairs")
    if not body:
        raise InvalidInput("No labels given: expected at least one key=value")
    return {validate_label_key(k): validate_label_value(k, v) for k, v in body.items()}


def has_unescaped_comma(expr: str) -> bool:
    """A ``--set`` expression sysinv refuses: a comma not escaped with a backslash."""
    escaped = False
    for ch in expr:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            return True
    return False
