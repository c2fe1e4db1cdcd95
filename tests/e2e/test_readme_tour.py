"""The README's tour, copied in order as an operator would: every command of its blocks,
from "A short tour" to "Production", runs against ``sysinv aio`` on a cluster of its own
(the tour deletes and cordons Nodes), with helm, and succeeds.

What starts servers (``scripts/run``, ``tests.servers``) is started by the test instead;
``/tmp`` becomes the test's own directory. ``scripts/run``'s helm lookup is tested here
too: on PATH, else in the test cache, else the banner says what to set."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import BIN, start_aio, stop_aio
from tests.servers import cache
from tests.servers.helm import HelmBinary
from tests.servers.kube import INITIAL_NODES, start_kube_cluster
from tests.servers.ports import free_port

pytestmark = pytest.mark.kube
REPO = Path(__file__).resolve().parents[2]
#: Lines the test does itself: the test servers, and the shell set-up it gives every line.
STARTED_BY_THE_TEST = ("scripts/venv", ".venv/bin/python -m tests.servers", "export ",
                       "alias ")  # fmt: skip


def tour_lines() -> list[str]:
    """Every command of the tour, in order; ``scripts/run`` lines included (the test
    starts the service they start)."""
    text = (REPO / "README.md").read_text()
    tour = text[text.index("## A short tour") : text.index("## Production")]
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", tour, re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith(STARTED_BY_THE_TEST):
                lines.append(command)
    return lines


def test_the_tour_lines_are_found() -> None:
    lines = tour_lines()
    assert "system host-add -n controller-0 -p controller" in lines
    assert any(line.startswith("system helm-override-list hello-app") for line in lines)


def test_the_readme_tour_works_in_order(helm4: HelmBinary, tmp_path: Path) -> None:
    cluster = start_kube_cluster(list(INITIAL_NODES), tmp_path / "kube")
    # As the README starts it: `scripts/run` alone, no cluster.
    aio = start_aio(tmp_path / "first", env={"SYSINV_APPS__HELM_BINARY": str(helm4.path)})
    env = dict(
        os.environ, PATH=f"{BIN}:{os.environ['PATH']}", OS_AUTH_TOKEN="unused",
        KUBECONFIG=str(cluster.kubeconfig), SYSINV_APPS__HELM_BINARY=str(helm4.path),
    )  # fmt: skip
    try:
        for line in tour_lines():
            command = line.replace("/tmp", str(tmp_path))
            if command.startswith("scripts/run"):
                # Restarted with these arguments, as the tour says.
                stop_aio(aio)
                args = shlex.split(command.replace("$KUBECONFIG", str(cluster.kubeconfig)))
                data = Path(args[args.index("--data-dir") + 1])
                rest = [a for i, a in enumerate(args[1:], 1)
                        if a != "--data-dir" and args[i - 1] != "--data-dir"]  # fmt: skip
                aio = start_aio(data, *rest, env={"SYSINV_APPS__HELM_BINARY": str(helm4.path)})
                continue
            command = command.replace(".venv/bin/python", sys.executable)
            done = subprocess.run(["bash", "-c", command], cwd=REPO,
                                  env=dict(env, SYSTEM_URL=aio.url),
                                  capture_output=True, text=True, timeout=600)  # fmt: skip
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    finally:
        stop_aio(aio)
        cluster.stop()


def banner_of_run(tmp_path: Path, path: str, home: Path) -> str:
    """``scripts/run``'s banner with this PATH and HOME (and no SYSINV_APPS__HELM_BINARY)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SYSINV_APPS__HELM_BINARY"}
    env.update(PATH=path, HOME=str(home))
    proc = subprocess.Popen(
        [str(REPO / "scripts/run"), "--data-dir", str(tmp_path / f"d{port}"), "--port",
         str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    lines = []
    try:
        for raw in proc.stdout:
            lines.append(raw.decode())
            if raw.startswith(b" Point the system CLI"):
                break
    finally:
        os.killpg(proc.pid, 15)
        proc.communicate(timeout=20)  # read on: a full pipe would hold its last lines
    return "".join(lines)


def test_scripts_run_finds_helm_or_says_what_to_set(helm4: HelmBinary, tmp_path: Path) -> None:
    no_helm = "/usr/bin:/bin"
    assert subprocess.run(["bash", "-c", "command -v helm"], env={"PATH": no_helm}).returncode
    # In the test cache (HOME's): that one.
    text = banner_of_run(tmp_path, no_helm, Path.home())
    newest = max(cache.helm_binary(m) for m in (3, 4) if cache.helm_binary(m).is_file())
    assert f"helm:        {newest}" in text, text
    # On PATH: that one.
    on_path = tmp_path / "bin"
    on_path.mkdir()
    (on_path / "helm").symlink_to(helm4.path)
    text = banner_of_run(tmp_path, f"{on_path}:{no_helm}", tmp_path)
    assert f"helm:        {on_path / 'helm'}" in text, text
    # Neither: what to set.
    text = banner_of_run(tmp_path, no_helm, tmp_path)
    assert "NOT FOUND" in text and "SYSINV_APPS__HELM_BINARY" in text, text


def test_test_servers_start_without_pytest() -> None:
    """``python -m tests.servers up kube`` is for people, not pytest: it imports no pytest."""
    code = (
        "import sys, runpy; sys.modules['pytest'] = None; sys.argv = ['x', 'up', '--help']; "
        "runpy.run_module('tests.servers', run_name='__main__')"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "kube" in done.stdout
