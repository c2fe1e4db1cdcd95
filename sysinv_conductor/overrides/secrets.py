"""Generated secrets: created once per name, kept Fernet-encrypted in the database.

The key lives in a 0600 file created at first use; losing it makes the stored secrets
unreadable, which is reported as such rather than silently regenerating passwords that
deployed services still use.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helm_overrides.snapshot import SecretRef
from sysinv_common.db.engine import Database
from sysinv_common.db.models import GeneratedSecret
from sysinv_common.errors import SysinvError
from sysinv_common.keyfile import load_or_create_key

MASK = "******"


class SecretKeyError(SysinvError):
    pass


class SecretStore:
    def __init__(self, db: Database, key_file: Path) -> None:
        self.db = db
        self.key_file = key_file
        self._fernet: Fernet | None = None

    @property
    def fernet(self) -> Fernet:
        if self._fernet is None:
            self._fernet = Fernet(load_or_create_key(self.key_file, Fernet.generate_key))
        return self._fernet

    def ensure(self, names: Iterable[str]) -> None:
        """Generate the secrets not stored yet; an existing one is never replaced."""
        wanted = set(names)
        if not wanted:
            return
        with self.db.session() as s:
            have = set(
                s.scalars(select(GeneratedSecret.name).where(GeneratedSecret.name.in_(wanted)))
            )
        for name in sorted(wanted - have):
            token = self.fernet.encrypt(secrets.token_urlsafe(24).encode()).decode()
            try:
                with self.db.session() as s:
                    s.add(GeneratedSecret(name=name, ciphertext=token))
            except IntegrityError:
                pass  # another conductor generated it first: theirs stands

    def values(self, names: Iterable[str]) -> dict[str, str]:
        wanted = set(names)
        with self.db.session() as s:
            rows = self._rows(s, wanted)
        out: dict[str, str] = {}
        for row in rows:
            try:
                out[row.name] = self.fernet.decrypt(row.ciphertext.encode()).decode()
            except InvalidToken:
                raise SecretKeyError(
                    f"secret {row.name} cannot be decrypted with the key in {self.key_file}; "
                    "was the key file replaced?"
                ) from None
        missing = wanted - set(out)
        if missing:
            raise SecretKeyError(f"secrets not generated: {', '.join(sorted(missing))}")
        return out

    def stored(self, names: Iterable[str]) -> dict[str, str]:
        """The plain values of those of ``names`` generated so far; the others are left
        out (a plan reads secrets, it never creates them)."""
        wanted = set(names)
        if not wanted:
            return {}
        with self.db.session() as s:
            have = set(
                s.scalars(select(GeneratedSecret.name).where(GeneratedSecret.name.in_(wanted)))
            )
        return self.values(have)

    @staticmethod
    def _rows(s: Session, names: set[str]) -> list[GeneratedSecret]:
        return list(s.scalars(select(GeneratedSecret).where(GeneratedSecret.name.in_(names))))


def secret_names(values: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(values, SecretRef):
        found.add(values.name)
    elif isinstance(values, dict):
        for v in values.values():
            found |= secret_names(v)
    elif isinstance(values, list):
        for v in values:
            found |= secret_names(v)
    return found


def substitute(values: Any, plain: dict[str, str] | None) -> Any:
    """``values`` with every SecretRef replaced: by its value, or by a mask (plain=None)."""
    if isinstance(values, SecretRef):
        return MASK if plain is None else plain[values.name]
    if isinstance(values, dict):
        return {k: substitute(v, plain) for k, v in values.items()}
    if isinstance(values, list):
        return [substitute(v, plain) for v in values]
    return values


_REF = "$secret"


def encode_refs(values: Any) -> Any:
    """``values`` as JSON: each SecretRef as ``{"$secret": name}`` (its name, not its value)."""
    if isinstance(values, SecretRef):
        return {_REF: values.name}
    if isinstance(values, dict):
        return {k: encode_refs(v) for k, v in values.items()}
    if isinstance(values, list):
        return [encode_refs(v) for v in values]
    return values


def decode_refs(values: Any) -> Any:
    if isinstance(values, dict):
        if set(values) == {_REF} and isinstance(values[_REF], str):
            return SecretRef(values[_REF])
        return {k: decode_refs(v) for k, v in values.items()}
    if isinstance(values, list):
        return [decode_refs(v) for v in values]
    return values
