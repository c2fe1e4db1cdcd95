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
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
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


def _stage(src: Path, repo_dir: Path) -> Path:
    """A copy of ``src`` beside the repository's archives, under a name helm does not
    index (``*.part``), synced and ready to be renamed into place."""
    fd, tmp = tempfile.mkstemp(dir=repo_dir, prefix=".incoming-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


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
    the same name and version is a :class:`BundleError` naming every such archive, unless
    ``replace`` (a chart version should mean one content; another app relying on the old
    one would change silently). All or nothing: every archive is checked, then copied
    beside the repository, before any is put in place; if ``helm repo index`` fails, the
    repository gets back the archives it had. ``url`` is passed to ``helm repo index
    --url``. Returns the paths in the repository.
    """
    infos = list(charts)
    with _repo_lock(repo_dir):
        targets = [repo_dir / info.repo_file_name for info in infos]
        new = [
            (info, target)
            for info, target in zip(infos, targets, strict=True)
            if not (target.exists() and _same_bytes(info.archive, target))
        ]
        differing = [(info, t) for info, t in new if t.exists()]
        if differing and not replace:
            names = "; ".join(
                f"chart {i.name} {i.version} ({i.archive.name}) differs from the "
                f"{t.name} already in the chart repository" for i, t in differing
            )  # fmt: skip
            raise BundleError(f"{names}: give each a new version")
        staged: list[tuple[Path, Path]] = []
        backups: list[tuple[Path, Path]] = []
        placed: list[Path] = []
        try:
            for info, target in new:
                staged.append((_stage(info.archive, repo_dir), target))
            for tmp, target in staged:
                if target.exists():
                    LOG.warning("Replacing %s in the chart repository %s", target.name, repo_dir)
                    backup = target.with_name(f".{target.name}.{os.getpid()}.replaced")
                    os.replace(target, backup)
                    backups.append((backup, target))
                os.replace(tmp, target)
                placed.append(target)
            _index(helm, repo_dir, env, timeout, url)
        except BaseException:
            for target in placed:
                target.unlink(missing_ok=True)
            for backup, target in backups:
                os.replace(backup, target)
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            raise
        for backup, _ in backups:
            backup.unlink(missing_ok=True)
    LOG.info("Chart repository %s: stored %s", repo_dir, ", ".join(t.name for t in targets))
    return tuple(targets)


def prune_repo(
    helm: str | Path,
    repo_dir: Path,
    keep: Callable[[], Collection[str]],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    url: str | None = None,
) -> tuple[str, ...]:
    """Delete every chart archive of ``repo_dir`` whose file name ``keep()`` does not list;
    rebuild the index if any went. ``keep`` is called with the repository locked, so an
    archive stored after it was decided to keep it is not lost. Returns the names deleted.
    """
    if not repo_dir.is_dir():
        return ()
    with _repo_lock(repo_dir):
        wanted = set(keep())
        gone = sorted(p.name for p in repo_dir.glob("*.tgz") if p.name not in wanted)
        for name in gone:
            (repo_dir / name).unlink(missing_ok=True)
        if gone:
            _index(helm, repo_dir, env, timeout, url)
    if gone:
        LOG.info("Chart repository %s: removed %s", repo_dir, ", ".join(gone))
    return tuple(gone)
