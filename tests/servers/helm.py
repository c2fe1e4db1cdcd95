"""The pinned helm 3 and helm 4 binaries, each run with its own HELM_* homes."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.servers import cache


@dataclass(frozen=True)
class HelmBinary:
    path: Path
    version: str
    major: int

    def env(self, home: Path) -> dict[str, str]:
        env = dict(os.environ)
        for var in ("CACHE", "CONFIG", "DATA"):
            d = home / var.lower()
            d.mkdir(parents=True, exist_ok=True)
            env[f"HELM_{var}_HOME"] = str(d)
        return env

    def package(self, files: Mapping[str, str], src: Path, dest: Path, home: Path) -> None:
        """Write a chart's ``files`` (path: text, dedented) under ``src`` and package it
        into ``dest`` with this helm."""
        for name, text in files.items():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_text(textwrap.dedent(text))
        subprocess.run([str(self.path), "package", str(src), "-d", str(dest)],
                       env=self.env(home), check=True, capture_output=True)  # fmt: skip


def helm_binary(major: int) -> HelmBinary:
    path = cache.helm_binary(major)
    if not path.is_file():
        raise RuntimeError(
            f"helm {major} is not in the test cache ({path}); run `python -m tests.servers build`"
        )
    out = subprocess.run(
        [str(path), "version", "--short"], capture_output=True, text=True, check=True
    ).stdout.strip()
    version = out.split("+")[0]
    if not version.startswith(f"v{major}."):
        raise RuntimeError(f"{path} reports {out}, expected helm {major}")
    return HelmBinary(path, version, major)
