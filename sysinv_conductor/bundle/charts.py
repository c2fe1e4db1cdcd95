"""Chart archives: checked with the real ``helm``, stored in the local chart repository.

We ask ``helm`` rather than parse ``Chart.yaml`` ourselves: whatever ``helm lint`` and
``helm show chart`` accept is exactly what ``helm upgrade --install`` will accept at apply
time, for the helm version actually installed (3.x or 4.x).

The local chart repository is a directory of ``<name>-<version>.tgz`` archives and the
``index.yaml`` that ``helm repo index`` makes of them. Changes to it are serialized by an
advisory lock on a file inside it, so concurrent uploads on one host do not index a
half-copied archive or interleave their ``index.yaml`` writes.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import bounded_yaml
from armada.deployers.process import ChildLimits, ProcessResult, run_process
from sysinv_common.apps import BundleError
from sysinv_common.errors import SysinvError

LOG = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 120.0
LOCK_FILE = ".sysinv-repo.lock"
INDEX_FILE = "index.yaml"
# helm's full output can be long (one line per template); the message keeps the gist.
MAX_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class ChartInfo:
    """A chart archive that passed ``helm lint``, with what ``helm show chart`` says."""

    archive: Path
    name: str
    version: str
    app_version: str | None
    api_version: str

    @property
    def repo_file_name(self) -> str:
        """The archive's name in the chart repository (what ``helm package`` would use)."""
        return f"{self.name}-{self.version}.tgz"


def _helm(
    helm: str | Path,
    args: Sequence[str],
    env: Mapping[str, str] | None,
    timeout: float,
    what: str,
    limits: ChildLimits | None = None,
    tmp_parent: Path | None = None,
) -> ProcessResult:
    """helm with ``args``, tied to our life, bounded by ``limits``, its temporary files
    (``helm lint`` leaves some when it crashes) in a directory removed afterwards."""
    if shutil.which(str(helm)) is None:
        # A missing helm is the installation's fault, not the bundle's.
        raise SysinvError(f"helm binary {helm} cannot be run: not found or not executable")
    try:
        proc = run_process(
            [str(helm), *args], env=env, timeout=timeout, limits=limits, tmp_parent=tmp_parent
        )
    except OSError as exc:
        raise SysinvError(f"helm binary {helm} cannot be run: {exc.strerror or exc}") from None
    limit = limits.describe(proc) if limits is not None else None
    if limit:
        raise BundleError(f"{what}: `helm {args[0]}` was stopped: {limit}")
    if proc.timed_out:
        raise BundleError(f"{what}: `helm {args[0]}` did not finish within {timeout:g} s")
    return proc


def _gist(proc: ProcessResult) -> str:
    """helm's complaint: its ERROR/Error lines when it printed any, else all its output."""
    text = "\n".join(s.strip() for s in (proc.stdout, proc.stderr) if s.strip())
    errors = [ln.strip() for ln in text.splitlines() if "[ERROR]" in ln or ln.startswith("Error")]
    gist = "; ".join(errors) if errors else text.replace("\n", "; ")
    gist = gist or f"exit status {proc.returncode}"
    return gist if len(gist) <= MAX_MESSAGE_CHARS else gist[:MAX_MESSAGE_CHARS] + "..."


def _field(doc: Mapping[str, Any], key: str, label: str) -> str:
    value = doc.get(key)
    if value is None or isinstance(value, dict | list) or str(value) == "":
        raise BundleError(f"{label}: `helm show chart` gives no {key}")
    return str(value)


def check_chart(
    helm: str | Path,
    archive: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    limits: ChildLimits | None = None,
    tmp_parent: Path | None = None,
) -> ChartInfo:
    """``helm lint`` then ``helm show chart`` of one archive.

    ``env`` is the whole environment for helm (for its ``HELM_*_HOME`` directories);
    ``None`` inherits ours. ``limits`` bound each helm (a template bomb renders at lint
    time), whose temporary files go under ``tmp_parent``. A failure is a
    :class:`BundleError` naming the chart file and quoting helm; a helm that cannot be
    started is a :class:`SysinvError`.
    """
    label = f"chart {archive.name}"
    lint = _helm(helm, ["lint", str(archive)], env, timeout, label, limits, tmp_parent)
    if lint.returncode != 0:
        raise BundleError(f"{label}: helm lint failed: {_gist(lint)}")
    show = _helm(helm, ["show", "chart", str(archive)], env, timeout, label, limits, tmp_parent)
    if show.returncode != 0:
        raise BundleError(f"{label}: helm show chart failed: {_gist(show)}")
    try:
        doc = bounded_yaml.load(show.stdout)
    except yaml.YAMLError as exc:
        raise BundleError(f"{label}: `helm show chart` output is not YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise BundleError(f"{label}: `helm show chart` output is not a mapping")
    app_version = doc.get("appVersion")
    return ChartInfo(
        archive=archive,
        name=_field(doc, "name", label),
        version=_field(doc, "version", label),
        app_version=None if app_version is None else str(app_version),
        api_version=_field(doc, "apiVersion", label),
    )


def check_charts(
    helm: str | Path,
    archives: Iterable[Path],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    limits: ChildLimits | None = None,
    tmp_parent: Path | None = None,
) -> tuple[ChartInfo, ...]:
    """:func:`check_chart` for each archive, in order; two archives of one chart name fail."""
    seen: dict[str, ChartInfo] = {}
    out: list[ChartInfo] = []
    for archive in archives:
        info = check_chart(
            helm, archive, env=env, timeout=timeout, limits=limits, tmp_parent=tmp_parent
        )
        if info.name in seen:
            raise BundleError(
                f"charts {seen[info.name].archive.name} and {archive.name} are both "
                f"chart {info.name!r}; a bundle holds each chart once"
            )
        seen[info.name] = info
        out.append(info)
    return tuple(out)


@contextmanager
def _repo_lock(repo_dir: Path) -> Iterator[None]:
    repo_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(repo_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            ca, cb = fa.read(1 << 20), fb.read(1 << 20)
            if ca != cb:
                return False
            if not ca:
                return True


def _copy_atomic(src: Path, dst: Path) -> None:
    # Copy beside the target under a name helm does not index, then rename into place.
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=".incoming-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _index(
    helm: str | Path,
    repo_dir: Path,
    env: Mapping[str, str] | None,
    timeout: float,
    url: str | None,
) -> None:
    args = ["repo", "index", str(repo_dir)] + (["--url", url] if url else [])
    proc = _helm(helm, args, env, timeout, f"chart repository {repo_dir}")
    if proc.returncode != 0:
        raise SysinvError(f"helm repo index {repo_dir} failed: {_gist(proc)}")


def store_charts(
    helm: str | Path,
    charts: Iterable[ChartInfo],
    repo_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    url: str | None = None,
    replace: bool = False,
) -> tuple[Path, ...]:
    """Copy checked charts into ``repo_dir`` as ``<name>-<version>.tgz``; rebuild the index.

    An archive already there with the same bytes is kept. One with different bytes under
    the same name and version is a :class:`BundleError` unless ``replace`` (a chart version
    should mean one content; another app relying on the old one would change silently).
    ``url`` is passed to ``helm repo index --url``. Returns the paths in the repository.
    """
    stored: list[Path] = []
    with _repo_lock(repo_dir):
        for info in charts:
            target = repo_dir / info.repo_file_name
            present = target.exists()
            if present and _same_bytes(info.archive, target):
                stored.append(target)
                continue
            if present and not replace:
                raise BundleError(
                    f"chart {info.name} {info.version} ({info.archive.name}) differs from "
                    "the one already in the chart repository; give it a new version"
                )
            if present:
                LOG.warning("Replacing %s in the chart repository %s", target.name, repo_dir)
            _copy_atomic(info.archive, target)
            stored.append(target)
        _index(helm, repo_dir, env, timeout, url)
    LOG.info("Chart repository %s: stored %s", repo_dir, ", ".join(p.name for p in stored))
    return tuple(stored)


def remove_charts(
    helm: str | Path,
    repo_dir: Path,
    file_names: Iterable[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    url: str | None = None,
) -> None:
    """Delete archives (by file name, e.g. ``ChartInfo.repo_file_name``); rebuild the index.

    Missing files are fine (idempotent, for a delete that is retried).
    """
    with _repo_lock(repo_dir):
        for name in file_names:
            if "/" in name or name in ("", ".", "..") or not name.endswith(".tgz"):
                raise ValueError(f"not a chart archive file name: {name!r}")
            (repo_dir / name).unlink(missing_ok=True)
        _index(helm, repo_dir, env, timeout, url)
