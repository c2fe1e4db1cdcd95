"""The ``system`` CLI: StarlingX's command names over sysinv's v1 REST API (HTTP only)."""

__version__ = "0.1.0"
