"""Talking to a registry: the local one with tokens this conductor signs itself, a source
registry anonymously (Docker Hub and quay.io hand anonymous pull tokens) or through the
mirror configured for it. The HTTP work is python-dxf's; what is ours is which endpoint,
which token, and turning a registry's refusal into a sentence naming the image."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from dxf import DXF, DXFBase
from dxf.exceptions import DXFError, DXFUnauthorizedError

#: Manifest kinds a copy understands, as the Accept header asks for them.
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
LISTS = (DOCKER_LIST, OCI_INDEX)
#: A manifest larger than this is not an image manifest (the registry's own limit is 4 MiB).
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


class ImageError(Exception):
    """An image could not be read or written; the message names it and says why."""


#: Signs a token for (repository, actions) on the local registry.
TokenSource = Callable[[str, tuple[str, ...]], str]


@dataclass(frozen=True)
class Endpoint:
    """One registry as sysinv reaches it."""

    address: str
    #: Plain HTTP (a loopback or lab registry); TLS otherwise.
    insecure: bool = False
    #: CA bundle to verify its certificate with; None: the system's.
    ca_file: str | None = None
    #: None: anonymous (with the registry's anonymous token where it asks for one).
    tokens: TokenSource | None = None
    timeout: float = 60.0

    def repository(self, name: str, actions: tuple[str, ...]) -> DXF:
        """A client for ``name`` (open it with ``with``: one connection pool per image)."""
        auth = None if self.tokens else _anonymous
        client = DXF(self.address, name, auth=auth, insecure=self.insecure,
                     tlsverify=self.ca_file or True, timeout=self.timeout)  # fmt: skip
        if self.tokens is not None:
            client.token = self.tokens(name, actions)
        return client

    def catalog(self) -> DXFBase:
        base = DXFBase(self.address, insecure=self.insecure, tlsverify=self.ca_file or True,
                       timeout=self.timeout)  # fmt: skip
        if self.tokens is not None:
            base.token = self.tokens("catalog", ("*",))
        return base


def _anonymous(client: DXFBase, response: requests.Response) -> None:
    # A plain-HTTP registry asking for a token cannot get one from dxf (it refuses to send
    # credentials in clear); anonymous pulls from such a registry fail with its 401.
    if not client._insecure:  # dxf keeps the scheme there only
        client.authenticate(response=response)


@dataclass(frozen=True)
class Manifest:
    body: bytes
    media_type: str
    digest: str

    def json(self) -> dict[str, Any]:
        data = json.loads(self.body)
        if not isinstance(data, dict):
            raise ValueError("a manifest is a JSON object")
        return data


def get_manifest(client: DXF, reference: str) -> Manifest:
    _, response = client.get_manifest_and_response(reference)
    body = response.content
    if len(body) > MAX_MANIFEST_BYTES:
        raise ImageError(f"its manifest is {len(body)} bytes, over {MAX_MANIFEST_BYTES}")
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    digest = response.headers.get("Docker-Content-Digest") or sha256_digest(body)
    return Manifest(body, media_type, digest)


def manifest_digest(client: DXF, reference: str) -> str | None:
    """The digest ``reference`` names in the registry, or None when it names nothing."""
    try:
        digest, _ = client.head_manifest_and_response(reference)
    except requests.HTTPError as exc:
        if exc.response is not None and exc.response.status_code == 404:
            return None
        raise
    return digest


def put_manifest(client: DXF, reference: str, manifest: Manifest) -> None:
    """Store ``manifest`` as given (its bytes are its digest). dxf's own ``set_manifest``
    reads the type from the body, which an OCI manifest need not hold."""
    client._request(  # type: ignore[no-untyped-call]  # carries the session and token
        "put", "manifests/" + reference, data=manifest.body,
        headers={"Content-Type": manifest.media_type},
    )  # fmt: skip


def has_blob(client: DXF, digest: str) -> bool:
    try:
        client.blob_size(digest)
    except requests.HTTPError as exc:
        if exc.response is not None and exc.response.status_code == 404:
            return False
        raise
    return True


def sha256_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def describe(exc: BaseException) -> str:
    """What a registry (or the network) said, in one line without secrets."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        r = exc.response
        detail = ""
        try:
            errors = r.json().get("errors") or []
            detail = "; ".join(
                f"{e.get('code', '')}: {e.get('message', '')}".strip(": ") for e in errors
            )
        except ValueError:
            detail = r.text[:200].strip()
        where = f"{r.request.method} {r.request.path_url}" if r.request is not None else ""
        return f"{r.status_code} {r.reason} ({where}){': ' + detail if detail else ''}"
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect: " + str(exc.args[0] if exc.args else exc)[:300]
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, DXFUnauthorizedError):
        return "401 Unauthorized (the registry refused the credentials or token)"
    if isinstance(exc, DXFError | ImageError | ValueError):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"
