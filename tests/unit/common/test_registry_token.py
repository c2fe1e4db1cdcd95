"""Registry tokens: the signing key on disk, scopes, what each role is granted, the JWT.

That the registry itself accepts these tokens is tests/integration/test_registry_tokens.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import threading
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sysinv_common.errors import InvalidInput
from sysinv_common.keyfile import KeyFileError
from sysinv_common.registry_token import (
    MAX_SCOPES,
    Access,
    SigningKey,
    grant,
    libtrust_key_id,
    parse_scope,
    parse_scopes,
)


def _paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "state" / "registry-token.key", tmp_path / "state" / "registry-token.crt"


def test_key_is_created_once_0600_with_a_matching_certificate(tmp_path: Path) -> None:
    key_path, cert_path = _paths(tmp_path)
    first = SigningKey.load_or_create(key_path, cert_path)
    assert key_path.stat().st_mode & 0o777 == 0o600
    assert key_path.parent.stat().st_mode & 0o077 == 0
    assert cert_path.stat().st_mode & 0o777 == 0o644
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert cert.public_key() == first.key.public_key()
    assert cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > dt.timedelta(days=3000)
    again = SigningKey.load_or_create(key_path, cert_path)
    assert again.kid == first.kid
    assert again.certificate_pem == first.certificate_pem  # not rewritten


def test_racing_creators_all_end_up_with_one_key(tmp_path: Path) -> None:
    key_path, cert_path = _paths(tmp_path)
    kids: list[str] = []
    start = threading.Barrier(8)

    def create() -> None:
        start.wait()
        kids.append(SigningKey.load_or_create(key_path, cert_path).kid)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(kids) == 8 and len(set(kids)) == 1
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert libtrust_key_id(cert.public_key()) == kids[0]  # type: ignore[arg-type]
    assert [p.name for p in key_path.parent.iterdir() if p.name.startswith(".")] == []


def test_a_certificate_of_another_key_is_replaced(tmp_path: Path) -> None:
    key_path, cert_path = _paths(tmp_path)
    SigningKey.load_or_create(tmp_path / "other.key", cert_path)
    key = SigningKey.load_or_create(key_path, cert_path)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert cert.public_key() == key.key.public_key()
    cert_path.write_text("garbage")
    SigningKey.load_or_create(key_path, cert_path)
    assert x509.load_pem_x509_certificate(cert_path.read_bytes()).public_key() == cert.public_key()


def test_a_key_others_may_read_or_that_is_no_key_is_refused(tmp_path: Path) -> None:
    key_path, cert_path = _paths(tmp_path)
    SigningKey.load_or_create(key_path, cert_path)
    os.chmod(key_path, 0o644)
    with pytest.raises(KeyFileError, match="accessible to every user"):
        SigningKey.load_or_create(key_path, cert_path)
    os.chmod(key_path, 0o600)
    key_path.write_text("not a key")
    with pytest.raises(KeyFileError, match="does not hold a PEM private key"):
        SigningKey.load_or_create(key_path, cert_path)
    rsa_like = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip
    key_path.write_bytes(rsa_like)
    with pytest.raises(KeyFileError, match="not an EC P-256 key"):
        SigningKey.load_or_create(key_path, cert_path)


def test_libtrust_key_id_is_the_truncated_sha256_of_the_spki_in_base32_groups() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    kid = libtrust_key_id(key)
    groups = kid.split(":")
    assert len(groups) == 12 and all(len(g) == 4 for g in groups)
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert base64.b32decode(kid.replace(":", "")) == hashlib.sha256(der).digest()[:30]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("repository:demo/hello:pull,push", Access("repository", "demo/hello", ("pull", "push"))),
        ("repository:a:pull,pull", Access("repository", "a", ("pull",))),
        ("repository(plugin):a/b:pull", Access("repository", "a/b", ("pull",))),
        ("registry:catalog:*", Access("registry", "catalog", ("*",))),
        ("repository:my_app/x-y.z__w:delete", Access("repository", "my_app/x-y.z__w", ("delete",))),
    ],
)
def test_scopes_parse(scope: str, expected: Access) -> None:
    assert parse_scope(scope) == expected


@pytest.mark.parametrize(
    "scope",
    [
        "repository",
        "repository:demo",
        "repository::pull",
        "repository:Demo/Upper:pull",
        "repository:a//b:pull",
        "repository:" + "a" * 256 + ":pull",
        "repository:a:",
        "repository:a:pu ll",
        "Repository:a:pull",
        "repository:a:pull;rm",
    ],
)
def test_malformed_scopes_are_refused_naming_them(scope: str) -> None:
    with pytest.raises(InvalidInput, match="Invalid scope"):
        parse_scope(scope)


def test_a_request_has_at_most_max_scopes() -> None:
    assert len(parse_scopes(["repository:a:pull repository:b:pull", "registry:catalog:*"])) == 3
    with pytest.raises(InvalidInput, match="Too many scopes"):
        parse_scopes([f"repository:r{i}:pull" for i in range(MAX_SCOPES + 1)])


ASKED = [
    Access("repository", "demo/hello", ("pull", "push", "delete")),
    Access("registry", "catalog", ("*",)),
    Access("registry", "other", ("*",)),
    Access("unknown", "thing", ("pull",)),
]


def test_admin_gets_push_pull_delete_and_the_catalog() -> None:
    assert grant(ASKED, {"admin", "reader"}) == [
        Access("repository", "demo/hello", ("pull", "push", "delete")),
        Access("registry", "catalog", ("*",)),
    ]


@pytest.mark.parametrize("roles", [{"reader"}, {"reader", "member"}])
def test_reader_gets_pull_only(roles: set[str]) -> None:
    assert grant(ASKED, roles) == [Access("repository", "demo/hello", ("pull",))]


@pytest.mark.parametrize("roles", [set(), {"observer"}, {"member"}, {"Admin"}])
def test_anyone_else_gets_nothing(roles: set[str]) -> None:
    # Keystone's member implies reader: a token of a member lists both (see the
    # integration tests); "member" alone, as a name, grants nothing here.
    assert grant(ASKED, roles) == []


def test_one_resource_asked_twice_is_granted_once() -> None:
    asked = [Access("repository", "a", ("pull",)), Access("repository", "a", ("push", "pull"))]
    assert grant(asked, {"admin"}) == [Access("repository", "a", ("pull", "push"))]


def test_the_token_carries_the_claims_the_registry_reads(tmp_path: Path) -> None:
    key = SigningKey.load_or_create(*_paths(tmp_path))
    now = dt.datetime(2030, 1, 2, 3, 4, 5, 678, tzinfo=dt.UTC)
    issued = key.issue(
        issuer="sysinv", subject="admin", audience="sysinv-registry",
        access=[Access("repository", "demo/hello", ("pull",))], lifetime=900, now=now,
    )  # fmt: skip
    header = jwt.get_unverified_header(issued.token)
    assert header == {"alg": "ES256", "kid": key.kid, "typ": "JWT"}
    cert = x509.load_pem_x509_certificate(key.certificate_pem)
    claims = jwt.decode(
        issued.token, cert.public_key(), algorithms=["ES256"], audience="sysinv-registry",
        issuer="sysinv", options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )  # fmt: skip
    iat = int(now.replace(microsecond=0).timestamp())
    assert claims.pop("jti")
    assert claims == {
        "iss": "sysinv", "sub": "admin", "aud": "sysinv-registry",
        "exp": iat + 900, "nbf": iat, "iat": iat,
        "access": [{"type": "repository", "name": "demo/hello", "actions": ["pull"]}],
    }  # fmt: skip
    assert issued.expires_in == 900
    other = key.issue(issuer="i", subject="s", audience="a", access=[], lifetime=60)
    unverified = jwt.decode(other.token, options={"verify_signature": False})
    assert unverified["access"] == []
    assert unverified["jti"] != jwt.decode(issued.token, options={"verify_signature": False})["jti"]


def test_sysinv_registry_token_cert_prints_the_registrys_auth_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    import yaml

    from sysinv_admin.cli import _registry_token_cert

    for name in list(os.environ):
        if name.startswith("SYSINV_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SYSINV_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("SYSINV_KEYSTONE__PUBLIC_URL", "https://ctl.example:6385/")
    assert _registry_token_cert(argparse.Namespace()) == 0
    out = capsys.readouterr().out
    cert_path = tmp_path / "registry-token.crt"
    assert yaml.safe_load(out) == {"auth": {"token": {
        "realm": "https://ctl.example:6385/v1/registry/token", "service": "sysinv-registry",
        "issuer": "sysinv", "rootcertbundle": str(cert_path),
    }}}  # fmt: skip
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert f"key id {libtrust_key_id(cert.public_key())})" in out  # type: ignore[arg-type]
    assert (tmp_path / "registry-token.key").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("SYSINV_REGISTRY__TOKEN_URL", "https://lb.example/v1/registry/token")
    monkeypatch.setenv("SYSINV_REGISTRY__SERVICE", "registry.local:9001")
    assert _registry_token_cert(argparse.Namespace()) == 0
    token = yaml.safe_load(capsys.readouterr().out)["auth"]["token"]
    assert token["realm"] == "https://lb.example/v1/registry/token"
    assert token["service"] == "registry.local:9001"
    (tmp_path / "registry-token.key").chmod(0o644)
    assert _registry_token_cert(argparse.Namespace()) == 2
    assert "accessible to every user" in capsys.readouterr().err
