"""Image references, as Docker reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from helm_overrides.images import qualified
from sysinv_common.errors import InvalidInput

# The registry's grammar for repository names, tags and digests (distribution/reference).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class ImageRef:
    """``registry/repository:tag`` or ``registry/repository@digest``."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """What a manifest is fetched by: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def local_repository(self) -> str:
        """The repository serving it in the local registry: the source registry kept as
        the first path part, as the override generator rewrites references."""
        return f"{self.registry}/{self.repository}"

    @property
    def local_tag(self) -> str:
        """The tag it is pushed under in the local registry (a digest-pinned reference is
        pushed by digest only, so that the local reference resolves the same content)."""
        return self.tag or "latest"

    def __str__(self) -> str:
        if self.digest:
            return f"{self.registry}/{self.repository}@{self.digest}"
        return f"{self.registry}/{self.repository}:{self.reference}"


def valid_repository(name: str) -> bool:
    return len(name) <= 255 and _REPOSITORY.fullmatch(name) is not None


def parse(ref: str) -> ImageRef:
    """The reference ``ref`` (``busybox:1.36``, ``quay.io/org/name@sha256:...``),
    refused with a message naming it when Docker would refuse it too."""
    full = qualified(ref.strip())
    registry, _, rest = full.partition("/")
    name, _, digest = rest.partition("@")
    tag: str | None = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = name.rpartition(":")
        if not _TAG.fullmatch(tag):
            raise InvalidInput(f"image {ref!r}: {tag!r} is not a valid tag")
    if not valid_repository(name):
        raise InvalidInput(f"image {ref!r}: {name!r} is not a valid repository name")
    if digest and not _DIGEST.fullmatch(digest):
        raise InvalidInput(f"image {ref!r}: {digest!r} is not a sha256 digest")
    return ImageRef(registry, name, tag or (None if digest else "latest"), digest or None)
