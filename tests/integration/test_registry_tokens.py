"""The local registry (docker-registry 2.8, token authentication) with sysinv's token
endpoint as its realm, served by the ``sysinv-api`` process against the test Keystone;
the clients are independent ones: skopeo, Debian's docker CLI against a real dockerd, and
plain HTTP following the registry's Bearer challenge as Docker's spec describes.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography import x509

from sysinv_common.registry_token import Access, SigningKey, libtrust_key_id
from tests.images import OCI_MANIFEST, OciImage, write_oci_image
from tests.servers import secrets_seen
from tests.servers.docker import DockerDaemon
from tests.servers.keystone import KeystoneCredential, KeystoneServer
from tests.servers.registry import LocalRegistry, TokenApi

pytestmark = pytest.mark.keystone

CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def authfile(tmp: Path, registry: LocalRegistry, cred: KeystoneCredential) -> Path:
    """A containers-auth.json of one login, 0600, for skopeo's --authfile options."""
    path = tmp / f"auth-{cred.username}.json"
    pair = base64.b64encode(f"{cred.username}:{cred.password}".encode()).decode()
    path.touch(mode=0o600)
    path.write_text(json.dumps({"auths": {registry.address: {"auth": pair}}}))
    return path


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, timeout=120, env={"HOME": "/nonexistent"}
    )


def push(tmp: Path, registry: LocalRegistry, cred: KeystoneCredential, image: OciImage,
         dest: str) -> subprocess.CompletedProcess[str]:  # fmt: skip
    auth = authfile(tmp, registry, cred)
    return skopeo("copy", "--dest-tls-verify=false", "--dest-authfile", str(auth), image.ref,
                  f"docker://{registry.address}/{dest}")  # fmt: skip


def challenge(response: httpx.Response) -> dict[str, str]:
    header = response.headers["www-authenticate"]
    assert header.startswith("Bearer "), header
    return dict(CHALLENGE_PARAM.findall(header))


def bearer(registry: LocalRegistry, cred: KeystoneCredential | None, method: str, path: str,
           headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
    """``method path`` on the registry as a Docker client does it: ask, read the Bearer
    challenge, get a token for its scope from its realm with Basic credentials, ask again."""
    first = httpx.request(method, f"{registry.url}{path}", headers=headers, timeout=30)
    assert first.status_code == 401, first.text
    params = challenge(first)
    auth = (cred.username, cred.password) if cred else None
    got = httpx.get(
        params["realm"],
        params={"service": params["service"], "scope": params["scope"]},
        auth=auth,
        timeout=30,
    )
    assert got.status_code == 200, got.text
    token = got.json()["token"]
    secrets_seen.remember(token)
    return httpx.request(
        method, f"{registry.url}{path}",
        headers={**(headers or {}), "Authorization": f"Bearer {token}"}, timeout=30,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pushed(
    local_registry: LocalRegistry,
    registry_token_api: TokenApi,
    keystone: KeystoneServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, OciImage]:
    """An image the admin pushed with skopeo: ``<repo>:1.0``."""
    tmp = tmp_path_factory.mktemp("pushed")
    image = write_oci_image(tmp / "layout", tag="1.0")
    repo = f"tokens-{uuid.uuid4().hex[:6]}/hello"
    done = push(tmp, local_registry, keystone.admin, image, f"{repo}:1.0")
    assert done.returncode == 0, done.stderr
    return repo, image


def test_skopeo_pushes_as_admin_and_pulls_as_reader(
    pushed: tuple[str, OciImage], local_registry: LocalRegistry, keystone: KeystoneServer,
    tmp_path: Path,
) -> None:  # fmt: skip
    repo, image = pushed
    auth = authfile(tmp_path, local_registry, keystone.reader)
    src = f"docker://{local_registry.address}/{repo}:1.0"
    tags = skopeo("list-tags", "--tls-verify=false", "--authfile", str(auth),
                  f"docker://{local_registry.address}/{repo}")  # fmt: skip
    assert tags.returncode == 0, tags.stderr
    assert json.loads(tags.stdout)["Tags"] == ["1.0"]
    out = tmp_path / "pulled"
    pulled = skopeo("copy", "--src-tls-verify=false", "--src-authfile", str(auth), src,
                    f"oci:{out}:1.0")  # fmt: skip
    assert pulled.returncode == 0, pulled.stderr
    index = json.loads((out / "index.json").read_text())
    assert index["manifests"][0]["digest"] == image.manifest_digest
    assert (out / "blobs" / "sha256" / image.layer_digest.split(":")[1]).is_file()
    # Without credentials: no token, so nothing is read.
    anonymous = skopeo("inspect", "--tls-verify=false", "--no-creds", src)
    assert anonymous.returncode != 0
    assert "unauthorized" in anonymous.stderr.lower() or "401" in anonymous.stderr


@pytest.mark.parametrize("who", ["reader", "other", "outsider"])
def test_skopeo_is_refused_a_push_as_anything_but_admin(
    pushed: tuple[str, OciImage], local_registry: LocalRegistry, keystone: KeystoneServer,
    tmp_path: Path, who: str,
) -> None:  # fmt: skip
    repo, _ = pushed
    image = write_oci_image(tmp_path / "layout", tag="2.0")
    refused = push(tmp_path, local_registry, getattr(keystone, who), image, f"{repo}:2.0")
    assert refused.returncode != 0
    assert re.search(r"unauthorized|denied|authentication required", refused.stderr, re.I), (
        refused.stderr
    )
    r = bearer(local_registry, keystone.admin, "GET", f"/v2/{repo}/tags/list")
    assert r.json()["tags"] == ["1.0"]


def test_a_bad_password_gets_no_token(
    local_registry: LocalRegistry, registry_token_api: TokenApi, keystone: KeystoneServer,
    tmp_path: Path,
) -> None:  # fmt: skip
    wrong = KeystoneCredential(keystone.admin.username, "wrong-password", "admin")
    refused = push(tmp_path, local_registry, wrong, write_oci_image(tmp_path / "l"), "x/y:1")
    assert refused.returncode != 0
    assert "Invalid username or password" in refused.stderr, refused.stderr


def test_docker_logs_in_and_pulls(
    pushed: tuple[str, OciImage], local_registry: LocalRegistry, keystone: KeystoneServer,
    docker_daemon: DockerDaemon, tmp_path: Path,
) -> None:  # fmt: skip
    repo, image = pushed
    config = tmp_path / "docker-config"
    config.mkdir(mode=0o700)
    reader = keystone.reader
    bad = docker_daemon.cli(config, "login", "-u", reader.username, "--password-stdin",
                            local_registry.address, stdin="wrong-password\n")  # fmt: skip
    assert bad.returncode != 0 and "unauthorized" in bad.stderr.lower(), bad.stderr
    ok = docker_daemon.cli(config, "login", "-u", reader.username, "--password-stdin",
                           local_registry.address, stdin=reader.password + "\n")  # fmt: skip
    assert ok.returncode == 0 and "Login Succeeded" in ok.stdout, ok.stdout + ok.stderr
    ref = f"{local_registry.address}/{repo}:1.0"
    pulled = docker_daemon.cli(config, "pull", ref)
    assert pulled.returncode == 0, pulled.stderr
    assert f"Digest: {image.manifest_digest}" in pulled.stdout
    inspect = docker_daemon.cli(config, "image", "inspect", "--format", "{{json .RepoDigests}}",
                                ref)  # fmt: skip
    assert json.loads(inspect.stdout) == [
        f"{local_registry.address}/{repo}@{image.manifest_digest}"
    ]
    docker_daemon.cli(config, "image", "rm", ref)
    # Logged out, the same pull is refused.
    assert docker_daemon.cli(config, "logout", local_registry.address).returncode == 0
    refused = docker_daemon.cli(config, "pull", ref)
    assert refused.returncode != 0
    assert re.search(r"unauthorized|authentication required", refused.stderr, re.I), refused.stderr


def test_manifest_head_with_the_oci_accept_header(
    pushed: tuple[str, OciImage], local_registry: LocalRegistry, keystone: KeystoneServer
) -> None:
    repo, image = pushed
    r = bearer(local_registry, keystone.reader, "HEAD", f"/v2/{repo}/manifests/1.0",
               headers={"Accept": OCI_MANIFEST})  # fmt: skip
    assert r.status_code == 200
    assert r.headers["docker-content-digest"] == image.manifest_digest
    assert r.headers["content-type"] == OCI_MANIFEST
    by_digest = bearer(local_registry, keystone.reader, "HEAD",
                       f"/v2/{repo}/manifests/{image.manifest_digest}",
                       headers={"Accept": OCI_MANIFEST})  # fmt: skip
    assert by_digest.status_code == 200


@pytest.mark.parametrize("who", ["reader", "other", "outsider"])
def test_the_catalog_is_listed_only_for_admin(
    pushed: tuple[str, OciImage], local_registry: LocalRegistry, keystone: KeystoneServer,
    who: str,
) -> None:  # fmt: skip
    repo, _ = pushed
    r = bearer(local_registry, keystone.admin, "GET", "/v2/_catalog")
    assert r.status_code == 200, r.text
    assert repo in r.json()["repositories"]
    refused = bearer(local_registry, getattr(keystone, who), "GET", "/v2/_catalog")
    assert refused.status_code == 401
    assert challenge(refused)["error"] == "insufficient_scope"


def test_the_registry_trusts_only_tokens_of_sysinv_key_and_issuer(
    pushed: tuple[str, OciImage], local_registry: LocalRegistry, registry_token_api: TokenApi,
    keystone: KeystoneServer, tmp_path: Path,
) -> None:  # fmt: skip
    repo, _ = pushed
    got = httpx.get(
        local_registry.realm,
        params={"service": LocalRegistry.SERVICE, "scope": f"repository:{repo}:pull"},
        auth=(keystone.reader.username, keystone.reader.password),
        timeout=30,
    )
    token = got.json()["token"]
    secrets_seen.remember(token)
    cert = x509.load_pem_x509_certificate(local_registry.certificate_file.read_bytes())
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == libtrust_key_id(cert.public_key())  # type: ignore[arg-type]
    claims = jwt.decode(token, cert.public_key(), algorithms=["ES256"],  # type: ignore[arg-type]
                        audience=LocalRegistry.SERVICE, issuer=LocalRegistry.ISSUER)  # fmt: skip
    assert isinstance(claims["aud"], str)
    assert all(isinstance(claims[k], int) for k in ("exp", "nbf", "iat"))
    assert claims["exp"] - claims["iat"] == 900

    def tags(token: str) -> int:
        url = f"{local_registry.url}/v2/{repo}/tags/list"
        return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code

    assert tags(token) == 200
    pull = [Access("repository", repo, ("pull",))]
    ours = SigningKey.load_or_create(
        local_registry.signing_key_file, local_registry.certificate_file
    )
    stranger = SigningKey.load_or_create(tmp_path / "k", tmp_path / "c")
    for key, issuer, audience, ok in (
        (ours, LocalRegistry.ISSUER, LocalRegistry.SERVICE, 200),
        (stranger, LocalRegistry.ISSUER, LocalRegistry.SERVICE, 401),
        (ours, "someone-else", LocalRegistry.SERVICE, 401),
        (ours, LocalRegistry.ISSUER, "another-registry", 401),
    ):
        minted = key.issue(issuer=issuer, subject="t", audience=audience, access=pull, lifetime=60)
        assert tags(minted.token) == ok, (issuer, audience)
