"""An application's images into the local registry, at upload.

Which images: every reference in a chart's ``images.tags`` (its values.yaml under its
Armada document's values: what the override generator rewrites to the local registry),
and every image in the bundle's ``images/`` archives. An image an archive holds is pushed
from it; the others are copied from their registry (or its mirror). Independent images
move ``registry.parallel_images`` at a time; the first failure stops the rest and the
upload fails naming every image that failed and what its registry answered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from armada.documents import DocumentSet
from helm_overrides.merge import coalesce
from sysinv_common.conf import Settings
from sysinv_common.conf.registry import ImageSource
from sysinv_common.registry_token import Access, SigningKey
from sysinv_conductor.images.archives import ArchiveImage, push_archive_image, read_archive
from sysinv_conductor.images.copy import Cancelled, Moved, copy_image
from sysinv_conductor.images.reference import ImageRef, parse
from sysinv_conductor.images.registry import Endpoint, ImageError, describe
from sysinv_conductor.overrides.generate import chart_defaults

LOG = logging.getLogger(__name__)

#: Docker Hub's API is not at the name its images carry.
DOCKER_HUB_API = "registry-1.docker.io"
SUBJECT = "sysinv-conductor"


def chart_image_refs(docs: DocumentSet, charts_dir: Path) -> list[str]:
    """Every image reference in every chart's ``images.tags`` (all charts of the
    manifest's documents, disabled ones too: enabling one later needs no upload)."""
    refs: set[str] = set()
    for doc in docs.charts.values():
        values = coalesce(chart_defaults(charts_dir / Path(doc.source_location).name),
                          dict(doc.values))  # fmt: skip
        images = values.get("images")
        tags = images.get("tags") if isinstance(images, dict) else None
        if isinstance(tags, dict):
            refs.update(v for v in tags.values() if isinstance(v, str) and v.strip())
    return sorted(refs)


def local_endpoint(
    settings: Settings, key: SigningKey, address: str, ca_file: str | None
) -> Endpoint:
    """The local registry with tokens this conductor signs with ``key``, the token
    endpoint's (the same file as sysinv-api's: the registry trusts its certificate)."""
    reg = settings.registry

    def tokens(name: str, actions: tuple[str, ...]) -> str:
        access = (Access("registry", "catalog", ("*",)) if name == "catalog"
                  else Access("repository", name, actions))  # fmt: skip
        return key.issue(issuer=reg.issuer, subject=SUBJECT, audience=reg.service,
                         access=[access], lifetime=reg.token_lifetime).token  # fmt: skip

    return Endpoint(address, insecure=reg.insecure, ca_file=ca_file, tokens=tokens,
                    timeout=reg.request_timeout)  # fmt: skip


def source_endpoint(registry: str, sources: Mapping[str, ImageSource], timeout: float) -> Endpoint:
    src = sources.get(registry)
    if src is not None:
        ca = str(src.ca_file) if src.ca_file else None
        return Endpoint(src.url, insecure=src.insecure, ca_file=ca, timeout=timeout)
    return Endpoint(DOCKER_HUB_API if registry == "docker.io" else registry, timeout=timeout)


@dataclass(frozen=True)
class Job:
    ref: ImageRef
    archive: ArchiveImage | None = None

    def __str__(self) -> str:
        return str(self.archive) if self.archive else str(self.ref)


def plan(images_dir: Path | None, refs: Iterable[str]) -> list[Job]:
    """One job per image: each archive image, then each reference no archive holds."""
    jobs: dict[ImageRef, Job] = {}
    if images_dir is not None and images_dir.is_dir():
        for path in sorted(images_dir.iterdir()):
            try:
                found = read_archive(path)
            except ImageError as exc:
                raise ImageError(f"images/{path.name}: {exc}") from None
            for image in found:
                jobs.setdefault(image.ref, Job(image.ref, image))
    for ref in refs:
        parsed = parse(ref)
        jobs.setdefault(parsed, Job(parsed))
    return list(jobs.values())


@dataclass
class Published:
    images: int = 0
    unchanged: int = 0
    blobs_sent: int = 0
    bytes_sent: int = 0
    blobs_present: int = 0

    def add(self, moved: Moved) -> None:
        self.images += 1
        self.unchanged += moved.unchanged
        self.blobs_sent += moved.blobs_sent
        self.bytes_sent += moved.bytes_sent
        self.blobs_present += moved.blobs_present

    def __str__(self) -> str:
        return (f"{self.images} images ({self.unchanged} already there), "
                f"{self.blobs_sent} blobs sent ({self.bytes_sent / 1e6:.1f} MB), "
                f"{self.blobs_present} already present")  # fmt: skip


def publish(
    jobs: list[Job],
    local: Endpoint,
    sources: Mapping[str, ImageSource],
    platform: str,
    parallel: int,
    progress: Callable[[int, int, Job], None],
    cancel: threading.Event,
) -> Published:
    """Move every job's image; raises ``ImageError`` naming every image that failed."""
    total = len(jobs)
    done = Published()
    # Set by the first failure, or by the operation's cancel (abort, lost lease): the
    # images under way stop at their next blob, the others do not start.
    stop = threading.Event()
    lock = threading.Lock()

    def one(job: Job) -> Moved:
        if stop.is_set():
            raise Cancelled()
        if job.archive is not None:
            moved = push_archive_image(job.archive, local, stop)
        else:
            source = source_endpoint(job.ref.registry, sources, local.timeout)
            moved = copy_image(job.ref, source, job.ref.repository, local, platform, stop)
        with lock:
            done.add(moved)
            progress(done.images, total, job)
        return moved

    failures: list[str] = []
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="images") as pool:
        futures: dict[Future[Moved], Job] = {pool.submit(one, job): job for job in jobs}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            if cancel.is_set():
                stop.set()
            for f in finished:
                exc = f.exception()
                if exc is None or isinstance(exc, Cancelled):
                    continue
                stop.set()
                failures.append(f"{futures[f]}: {describe(exc)}")
    if cancel.is_set() and not failures:
        raise Cancelled()
    if failures:
        shown = "; ".join(sorted(failures)[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        raise ImageError(f"{len(failures)} of {total} images failed: {shown}{more}")
    LOG.info("images: %s into %s", done, local.address)
    return done
