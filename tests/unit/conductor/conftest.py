"""A conductor context with or without a cluster, built the way the service builds it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from sysinv_common.conf import load_settings
from sysinv_conductor.context import ConductorContext

# Nothing listens here: the client is built from the file and never sends a request.
SERVER = "https://127.0.0.1:6443"


def write_kubeconfig(path: Path) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": SERVER}}],
                "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    return path


@pytest.fixture
def make_ctx(tmp_path: Path) -> Iterator[Callable[..., ConductorContext]]:
    """``make_ctx(kube=True, **app_settings)``: a context, its cluster optional."""
    built: list[ConductorContext] = []

    def make(kube: bool = True, **apps: object) -> ConductorContext:
        settings = load_settings(state_dir=tmp_path / "state")
        if kube:
            settings.kubernetes.kubeconfig = str(write_kubeconfig(tmp_path / "kubeconfig"))
        for name, value in apps.items():
            setattr(settings.apps, name, value)
        ctx = ConductorContext.build(settings)
        built.append(ctx)
        return ctx

    yield make
    for ctx in built:  # nothing ran on them, so only the database engine holds anything
        ctx.db.engine.dispose()
