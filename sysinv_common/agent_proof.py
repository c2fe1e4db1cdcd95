"""Agents prove which host they are: every report carries an HMAC made with that host's key.

The conductor holds a master key (``agent.master_key_file``, 32 random bytes created 0600
at first use). A host's key is ``HMAC-SHA256(master, "sysinv-agent:" + hostname)``: an
admin prints it with ``sysinv agent-key HOSTNAME`` and installs it on the node
(``agent.key_file``). The agent signs each report; the conductor derives the key of the
host the report names and checks the proof before it reads or writes anything. Broker
credentials alone, or a key of another host, make no report the conductor accepts.

What is signed: the report's method name and all its fields but ``proof`` (``sent_at``,
the hostname, the queue, ``rpc_version`` and the payload) as canonical JSON, sorted keys
and no spaces. A proof is accepted from ``MAX_AGE`` seconds before the conductor's clock
to ``MAX_AHEAD`` seconds after it, so a captured report cannot be replayed later on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sysinv_common.errors import InvalidInput
from sysinv_common.keyfile import (
    KeyFileError,
    check_private,
    decode_key,
    load_or_create_key,
    read_private_key,
)

__all__ = [
    "MAX_AGE",
    "MAX_AHEAD",
    "HostKeys",
    "KeyFileError",
    "encode_key",
    "host_key",
    "load_host_key",
    "load_master_key",
    "sign",
    "verify",
]

#: Seconds a proof stays good, and how far ahead of the conductor's clock it may be.
MAX_AGE = 300
MAX_AHEAD = 60

_HOW_TO_GET_ONE = (
    "run `sysinv agent-key {hostname}` where the conductor runs and install its output on "
    "this node in a file only sysinv-agent can read (chmod 600), named by agent.key_file "
    "(SYSINV_AGENT__KEY_FILE)"
)


def host_key(master: bytes, hostname: str) -> bytes:
    """The key of ``hostname``: what its agent signs with."""
    return hmac.new(master, b"sysinv-agent:" + hostname.encode(), hashlib.sha256).digest()


def encode_key(key: bytes) -> str:
    """A key as it is printed and kept in files: base64."""
    return base64.b64encode(key).decode()


def canonical(method: str, fields: Mapping[str, Any]) -> bytes:
    body = json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"sysinv-agent-report:{method}\n{body}".encode()


def sign(key: bytes, method: str, fields: Mapping[str, Any]) -> str:
    """The proof of a report: ``fields`` are all of its fields but ``proof``, ``sent_at``
    included."""
    return hmac.new(key, canonical(method, fields), hashlib.sha256).hexdigest()


def verify(
    key: bytes,
    method: str,
    hostname: str,
    fields: Mapping[str, Any],
    proof: str,
    now: float | None = None,
) -> None:
    """Refuse (``InvalidInput``) a report of ``hostname`` whose proof was not made with
    ``key`` over exactly these fields, or was made outside the accepted window."""
    expected = sign(key, method, fields)
    if not proof or not hmac.compare_digest(expected, proof):
        raise InvalidInput(f"Refused: the report for {hostname} is not signed by that host's key")
    sent_at = fields.get("sent_at")
    now = time.time() if now is None else now
    if not isinstance(sent_at, int) or not now - MAX_AGE <= sent_at <= now + MAX_AHEAD:
        if not isinstance(sent_at, int):
            when = "undated"
        elif sent_at < now:
            when = f"{now - sent_at:.0f} s old"
        else:
            when = f"dated {sent_at - now:.0f} s ahead of the conductor's clock"
        raise InvalidInput(
            f"Refused: the report for {hostname} is {when}; a report is accepted from "
            f"{MAX_AGE} s old to {MAX_AHEAD} s ahead (is the node's clock right?)"
        )


def load_master_key(path: Path) -> bytes:
    """The conductor's master key, created in ``path`` (0600) at first use."""
    try:
        text = load_or_create_key(path)
    except OSError as exc:
        raise KeyFileError(
            f"agent.master_key_file {path}: cannot read or create it: {exc.strerror}"
        ) from None
    check_private(path, "agent.master_key_file")
    return decode_key(text, f"agent.master_key_file {path}")


class HostKeys:
    """The conductor's side: the key of any host, from the master key in ``path``
    (read, or created, once: replacing the file takes a restart)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._master: bytes | None = None

    def load(self) -> bytes:
        if self._master is None:
            self._master = load_master_key(self.path)
        return self._master

    def key(self, hostname: str) -> bytes:
        return host_key(self.load(), hostname)


def load_host_key(path: Path | None, hostname: str) -> bytes:
    """This node's key, from ``agent.key_file``."""
    return read_private_key(path, "agent.key_file", _HOW_TO_GET_ONE.format(hostname=hostname))
