"""Tokens for the local registry (Docker's token authentication, docs/registry.md).

- The signing key: EC P-256, PEM, created once 0600 (two processes racing both keep the
  first), with a self-signed certificate beside it for the registry's
  ``auth.token.rootcertbundle``. The registry trusts the key itself: each token's header
  names it by ``kid``, its libtrust fingerprint, the key id the registry computes for
  every certificate of its bundle.
- Scopes (``repository:NAME:pull,push``, ``registry:catalog:*``) are parsed here, and what
  a role may have of them is decided here, once: admin pushes, pulls, deletes and lists the
  catalog; reader pulls; anyone else gets nothing.
- A token is an ES256 JWT: ``iss``, ``sub``, ``aud`` (one string: the registry refuses a
  list), ``exp``/``nbf``/``iat`` as integers, ``jti``, ``access``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sysinv_common.errors import InvalidInput
from sysinv_common.files import replace_file
from sysinv_common.keyfile import KeyFileError, check_private, load_or_create_key

ADMIN, READER = "admin", "reader"
#: What each role may do, by resource type: the only grants there are.
ROLE_ACTIONS: dict[str, dict[str, frozenset[str]]] = {
    ADMIN: {
        "repository": frozenset({"pull", "push", "delete", "*"}),
        "registry": frozenset({"*"}),
    },
    READER: {"repository": frozenset({"pull"})},
}
#: Resources of type ``registry`` that exist: the catalog.
REGISTRY_RESOURCES = frozenset({"catalog"})
MAX_SCOPES = 16
# Distribution's repository name grammar (reference.NameRegexp), at most 255 characters.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TYPE = re.compile(r"([a-z0-9]+)(?:\([a-z0-9]+\))?")
_ACTION = re.compile(r"[a-z]+|\*")
CERT_DAYS = 3650


@dataclass(frozen=True)
class Access:
    """One resource and the actions on it, as a scope asks and a token's ``access`` grants."""

    type: str
    name: str
    actions: tuple[str, ...]

    def claim(self) -> dict[str, object]:
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}


def parse_scope(scope: str) -> Access:
    """``type[(class)]:name:action[,action...]``; the name may hold colons (never the
    type or the actions). A scope that is not this is refused, naming it."""

    def bad(why: str) -> InvalidInput:
        return InvalidInput(f"Invalid scope {scope[:300]!r}: {why}")

    kind, sep, rest = scope.partition(":")
    name, sep2, actions_text = rest.rpartition(":")
    if not sep or not sep2:
        raise bad("expected type:name:actions")
    match = _TYPE.fullmatch(kind)
    if not match:
        raise bad(f"unknown resource type {kind[:50]!r}")
    actions = tuple(dict.fromkeys(a for a in actions_text.split(",") if a))
    if not actions or not all(_ACTION.fullmatch(a) for a in actions):
        raise bad("actions are comma-separated words such as pull,push")
    kind = match.group(1)
    if kind == "repository" and (len(name) > 255 or not _REPOSITORY.fullmatch(name)):
        raise bad("not a repository name (lower-case components separated by '/')")
    if not name:
        raise bad("no resource name")
    return Access(kind, name, actions)


def parse_scopes(scopes: Iterable[str]) -> list[Access]:
    """Every scope of a request (each ``scope`` parameter may hold several, space-separated,
    as Docker's OAuth form sends them)."""
    parsed = [parse_scope(s) for text in scopes for s in text.split(" ") if s]
    if len(parsed) > MAX_SCOPES:
        raise InvalidInput(f"Too many scopes ({len(parsed)}); at most {MAX_SCOPES} per token")
    return parsed


def role_of(roles: Iterable[str]) -> str | None:
    """The registry role of a Keystone user with ``roles`` (admin first)."""
    have = set(roles)
    return ADMIN if ADMIN in have else READER if READER in have else None


def grant(requested: Iterable[Access], roles: Iterable[str]) -> list[Access]:
    """What of ``requested`` the roles allow; a resource with no allowed action is left out
    (the registry then answers 401 ``insufficient_scope``)."""
    role = role_of(roles)
    allowed = ROLE_ACTIONS.get(role, {}) if role else {}
    granted: dict[tuple[str, str], list[str]] = {}
    for access in requested:
        if access.type == "registry" and access.name not in REGISTRY_RESOURCES:
            continue
        ok = allowed.get(access.type, frozenset())
        actions = granted.setdefault((access.type, access.name), [])
        actions.extend(a for a in access.actions if a in ok and a not in actions)
    return [Access(t, n, tuple(a)) for (t, n), a in granted.items() if a]


def libtrust_key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """The registry's key id of a public key: the first 240 bits of the SHA-256 of its DER
    SubjectPublicKeyInfo, base32, in twelve groups of four joined by ':'."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(text[i : i + 4] for i in range(0, len(text), 4))


def _new_key() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate(key: ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sysinv registry token signer")])
    now = dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_public(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data``, readable by all (a certificate)."""
    replace_file(path, data, 0o644)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    issued_at: dt.datetime


class SigningKey:
    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate_pem: bytes) -> None:
        self.key = key
        self.certificate_pem = certificate_pem
        self.kid = libtrust_key_id(key.public_key())

    @classmethod
    def load_or_create(cls, key_path: Path, cert_path: Path) -> SigningKey:
        """The key in ``key_path`` (created 0600 when missing; refused when others may read
        it), and its certificate in ``cert_path``, rewritten when missing or when it holds
        another key."""
        setting = "registry.signing_key_file"
        pem = load_or_create_key(key_path, _new_key)
        check_private(key_path, setting)
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except ValueError:
            raise KeyFileError(
                f"{setting} {key_path} does not hold a PEM private key; remove it to have a "
                "new one made (and give the registry its new certificate)"
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise KeyFileError(f"{setting} {key_path} is not an EC P-256 key (ES256)")
        try:
            current = x509.load_pem_x509_certificate(cert_path.read_bytes())
            same = current.public_key() == key.public_key()
        except (OSError, ValueError):
            same = False
        if not same:
            _write_public(cert_path, _certificate(key))
        return cls(key, cert_path.read_bytes())

    def issue(
        self,
        *,
        issuer: str,
        subject: str,
        audience: str,
        access: list[Access],
        lifetime: int,
        now: dt.datetime | None = None,
    ) -> IssuedToken:
        issued = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        iat = int(issued.timestamp())
        claims = {
            "iss": issuer,
            "sub": subject,
            "aud": audience,
            "exp": iat + lifetime,
            "nbf": iat,
            "iat": iat,
            "jti": secrets.token_urlsafe(16),
            "access": [a.claim() for a in access],
        }
        token = jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": self.kid})
        return IssuedToken(token, lifetime, issued)


class SigningKeyFile:
    """The signing key of ``key_path``/``cert_path``, loaded (or created) on first use and
    kept: a process signs every token with the one key it read, without reading the file
    again per token."""

    def __init__(self, key_path: Path, cert_path: Path) -> None:
        self.key_path = key_path
        self.cert_path = cert_path
        self._key: SigningKey | None = None
        self._lock = threading.Lock()

    def get(self) -> SigningKey:
        with self._lock:
            if self._key is None:
                self._key = SigningKey.load_or_create(self.key_path, self.cert_path)
            return self._key
