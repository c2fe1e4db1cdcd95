"""Who asks for a registry token: HTTP Basic credentials checked against Keystone.

The password is checked by authenticating as the user (keystoneauth1's password plugin,
unscoped, in ``registry.user_domain_name``); the user's roles are then read with sysinv's
own service credentials, as Keystone's effective role assignments (groups and implied
roles included) on every project, domain and the system. A user with the ``admin`` role
anywhere may obtain an admin token from sysinv's API, and so is an admin of the registry
too; ``reader`` (which Keystone's ``member`` implies) likewise.

Accepted credentials and their roles are remembered for ``registry.credential_cache_seconds``
under an HMAC of the pair with a key of this process (never the password itself), so a node
pulling many images costs Keystone one password check; refusals are never remembered.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

from sysinv_common.conf.keystone import KeystoneSettings
from sysinv_common.conf.registry import LocalRegistrySettings

CACHE_ENTRIES = 1024


class BadCredentials(Exception):
    """Keystone refused the username and password."""


class IdentityUnavailable(Exception):
    """Keystone could not be asked; the message says why (no secret in it)."""


class CredentialChecker(Protocol):
    #: The roles of a caller who sends no credentials; None: such a caller is refused.
    anonymous_roles: frozenset[str] | None

    def roles_of(self, username: str, password: str) -> frozenset[str]:
        """The user's roles; raises ``BadCredentials`` or ``IdentityUnavailable``."""
        ...


class AnyoneIsAdmin:
    """``api.auth: none``: as on the rest of the API, every caller is an admin, with or
    without credentials."""

    anonymous_roles: frozenset[str] | None = frozenset({"admin"})

    def roles_of(self, username: str, password: str) -> frozenset[str]:
        return frozenset({"admin"})


class KeystoneCredentials:
    anonymous_roles: frozenset[str] | None = None

    def __init__(self, keystone: KeystoneSettings, registry: LocalRegistrySettings) -> None:
        self.auth_url = keystone.auth_url.rstrip("/")
        self.domain = registry.user_domain_name
        self.timeout = keystone.timeout
        self.service = keystone.service_session()
        self.ttl = registry.credential_cache_seconds
        self._hmac_key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, tuple[float, frozenset[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def _cache_key(self, username: str, password: str) -> bytes:
        pair = f"{self.domain}\0{username}\0{password}".encode()
        return hmac.new(self._hmac_key, pair, hashlib.sha256).digest()

    def roles_of(self, username: str, password: str) -> frozenset[str]:
        key = self._cache_key(username, password)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        user_id = self._authenticate(username, password)
        roles = self._roles(user_id)
        if self.ttl > 0:
            with self._lock:
                self._cache[key] = (now + self.ttl, roles)
                self._cache.move_to_end(key)
                while len(self._cache) > CACHE_ENTRIES:
                    self._cache.popitem(last=False)
        return roles

    def _authenticate(self, username: str, password: str) -> str:
        from keystoneauth1 import exceptions, session
        from keystoneauth1.identity import v3

        user = v3.Password(
            auth_url=self.auth_url, username=username, password=password,
            user_domain_name=self.domain, unscoped=True,
        )  # fmt: skip
        try:
            access = user.get_access(session.Session(timeout=self.timeout))
        except exceptions.Unauthorized:
            raise BadCredentials() from None
        except (exceptions.ConnectFailure, exceptions.ConnectTimeout):
            raise IdentityUnavailable("Keystone is unreachable") from None
        except exceptions.HttpError as exc:
            if exc.http_status in (400, 404):  # a malformed name Keystone will not look up
                raise BadCredentials() from None
            raise IdentityUnavailable(f"Keystone answered {exc.http_status}") from None
        except exceptions.ClientException as exc:
            why = f"Keystone could not be asked: {type(exc).__name__}"
            raise IdentityUnavailable(why) from None
        return str(access.user_id)

    def _roles(self, user_id: str) -> frozenset[str]:
        from keystoneauth1 import exceptions

        try:
            response = self.service.get(
                f"{self.auth_url}/role_assignments",
                params={"user.id": user_id, "effective": "", "include_names": ""},
                raise_exc=False,
            )
        except (exceptions.ConnectFailure, exceptions.ConnectTimeout):
            raise IdentityUnavailable("Keystone is unreachable") from None
        except exceptions.ClientException as exc:
            raise IdentityUnavailable(
                f"Keystone could not be asked for the user's roles: {type(exc).__name__}"
            ) from None
        if response.status_code != 200:
            raise IdentityUnavailable(
                f"Keystone answered {response.status_code} when asked for the user's roles"
            )
        body: Any = response.json()
        return frozenset(
            str(a["role"]["name"])
            for a in body.get("role_assignments", [])
            if isinstance(a.get("role"), dict) and "name" in a["role"]
        )
