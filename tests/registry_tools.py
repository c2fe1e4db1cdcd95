"""What tests and benchmarks do to the test registries from outside sysinv: skopeo with
no user configuration in the way, and tokens the local registry trusts, signed with its
key as sysinv's token endpoint would sign them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import uuid
from pathlib import Path

from sysinv_common.registry_token import Access, SigningKey
from tests.images import OciImage, write_oci_image
from tests.servers.registry import LocalRegistry


def skopeo(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    # No HOME: no user's registries.conf, auth.json or policy overrides in the way.
    return subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=timeout,
                          env={"HOME": "/nonexistent", "PATH": os.environ["PATH"]})  # fmt: skip


def token(
    local: LocalRegistry, repository: str, *actions: str, subject: str = "test",
    lifetime: int = 300,
) -> str:  # fmt: skip
    """A bearer token for ``actions`` (pull, push, delete) on ``repository``."""
    key = SigningKey.load_or_create(local.signing_key_file, local.certificate_file)
    access = [Access("repository", repository, tuple(actions))]
    return key.issue(issuer=local.ISSUER, subject=subject, audience=local.SERVICE,
                     access=access, lifetime=lifetime).token  # fmt: skip


def push(local: LocalRegistry, tmp: Path, repository: str, tag: str, size: int = 0) -> OciImage:
    """A new image (unique content, ``size`` more bytes) pushed as ``repository:tag``."""
    image = write_oci_image(tmp / f"layout-{uuid.uuid4().hex[:6]}", tag="t", size=size)
    done = skopeo("copy", "--dest-tls-verify=false", "--dest-registry-token",
                  token(local, repository, "pull", "push"), image.ref,
                  f"docker://{local.address}/{repository}:{tag}")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return image


def local_digest(local: LocalRegistry, repository: str, tag: str) -> str | None:
    """The digest of ``repository:tag`` in the local registry, as skopeo reads it; None
    when the registry has no such manifest."""
    got = skopeo("inspect", "--raw", "--tls-verify=false", "--registry-token",
                 token(local, repository, "pull"),
                 f"docker://{local.address}/{repository}:{tag}")  # fmt: skip
    if got.returncode != 0:
        assert "manifest unknown" in got.stderr, got.stderr
        return None
    return "sha256:" + hashlib.sha256(got.stdout.encode()).hexdigest()


def pullable(local: LocalRegistry, repository: str, tag: str) -> bool:
    got = skopeo("inspect", "--tls-verify=false", "--registry-token", token(local, repository,
                 "pull"), f"docker://{local.address}/{repository}:{tag}")  # fmt: skip
    return got.returncode == 0
