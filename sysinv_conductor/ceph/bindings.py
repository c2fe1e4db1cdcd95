"""Debian's ``rados`` and ``rbd`` Python bindings, loaded on first use with a clear error.

They are built for Debian's own Python 3.11 (packages ``python3-rados`` and
``python3-rbd``); ``scripts/venv`` links the two extension modules into the project's
virtualenv, and a production virtualenv needs the same links (or
``/usr/lib/python3/dist-packages`` on its path).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from sysinv_common.errors import Unavailable

_PACKAGES = {"rados": "python3-rados", "rbd": "python3-rbd"}


def _load(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise Unavailable(
            f"the Ceph Python binding '{name}' cannot be loaded ({exc}): install Debian's "
            f"{_PACKAGES[name]} and link its module into sysinv's virtualenv (scripts/venv)"
        ) from None


def rados() -> ModuleType:
    return _load("rados")


def rbd() -> ModuleType:
    return _load("rbd")
