"""The credentials an openstack-helm chart reads, each set to its generated secret.

A chart reads the passwords of its users from ``endpoints.<endpoint>.auth.<entry>``: its
database users under every ``oslo_db*`` endpoint (nova of 2019-2021 has ``oslo_db``,
``oslo_db_api`` and ``oslo_db_cell0``, today ``oslo_db_cell1`` too), its message-bus users
under ``oslo_messaging*``, its keystone users under ``identity``, and memcached's token
encryption key at ``oslo_cache.auth.memcache_secret_key``. Every entry the chart's values
define gets a password, so a chart version with a new endpoint needs no new code; an entry
left out keeps the chart's default (``password``), which the database-init job then sets on
a user that the generated passwords elsewhere do not match.

Secrets are named after the user they are the password of, not after the chart or the
entry, so every entry naming the same user, in any chart, gets the same password: nova's
three ``nova`` database users are one user of MariaDB; nova of 2019 configures its neutron
client as ``neutron`` (the password of the neutron chart's own keystone user) where today's
nova has a user of its own, ``nova_neutron``. Each entry's ``admin`` is the superuser of
that server: MariaDB's ``root``, RabbitMQ's administrator, keystone's ``admin``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DATABASE = "database"
MESSAGING = "messaging"
IDENTITY = "identity"

#: The superusers' secrets (names kept from the first releases: stored passwords stay valid).
ADMIN_SECRETS = {DATABASE: "mariadb-admin", MESSAGING: "rabbitmq-admin", IDENTITY: "keystone-admin"}
#: A user's secret is ``<username><suffix>``.
SUFFIXES = {DATABASE: "-db", MESSAGING: "-rabbitmq", IDENTITY: "-keystone"}
MEMCACHE_SECRET = "memcache-secret-key"

_DATABASE_ENDPOINT = re.compile(r"oslo_db\w*")
_MESSAGING_ENDPOINT = re.compile(r"oslo_messaging\w*")
#: Usernames that make a secret name as they are; any other is named by its digest.
_PLAIN_USERNAME = re.compile(r"[A-Za-z0-9_.@+-]{1,128}")


def kind_of(endpoint: str) -> str | None:
    """Whose users the endpoint's auth entries are, or None for any other endpoint."""
    if _DATABASE_ENDPOINT.fullmatch(endpoint):
        return DATABASE
    if _MESSAGING_ENDPOINT.fullmatch(endpoint):
        return MESSAGING
    if endpoint == IDENTITY:
        return IDENTITY
    return None


def secret_name(kind: str, username: str) -> str:
    """The secret holding the password of ``username`` on the ``kind`` server."""
    if not _PLAIN_USERNAME.fullmatch(username):
        username = "sha256-" + hashlib.sha256(username.encode()).hexdigest()[:32]
    return username + SUFFIXES[kind]


@dataclass(frozen=True)
class Entry:
    """One ``endpoints.<endpoint>.auth.<key>`` credential entry."""

    endpoint: str
    key: str
    username: str
    kind: str

    @property
    def is_admin(self) -> bool:
        return self.key == "admin"


def chart_entries(values: Mapping[str, Any]) -> dict[str, list[Entry]]:
    """The credential entries the chart's values define, by endpoint: those with a
    ``password`` (the user's name is its ``username``, else the entry's key)."""
    endpoints = values.get("endpoints")
    found: dict[str, list[Entry]] = {}
    if not isinstance(endpoints, Mapping):
        return found
    for endpoint, spec in endpoints.items():
        kind = kind_of(endpoint) if isinstance(endpoint, str) else None
        auth = spec.get("auth") if isinstance(spec, Mapping) else None
        if kind is None or not isinstance(auth, Mapping):
            continue
        entries = found.setdefault(endpoint, [])
        for key, entry in auth.items():
            if isinstance(key, str) and isinstance(entry, Mapping) and "password" in entry:
                username = entry.get("username")
                name = username if isinstance(username, str) and username else key
                entries.append(Entry(endpoint, key, name, kind))
    return found


def declared_entries(declared: Mapping[str, Iterable[str]]) -> dict[str, list[Entry]]:
    """Entries a plugin names for charts whose values say nothing (usernames = keys)."""
    return {
        endpoint: [Entry(endpoint, key, key, kind) for key in keys]
        for endpoint, keys in declared.items()
        if (kind := kind_of(endpoint)) is not None
    }


def has_memcache_key(values: Mapping[str, Any]) -> bool:
    endpoints = values.get("endpoints")
    cache = endpoints.get("oslo_cache") if isinstance(endpoints, Mapping) else None
    auth = cache.get("auth") if isinstance(cache, Mapping) else None
    return isinstance(auth, Mapping) and "memcache_secret_key" in auth
