"""Children of the service: tied to its life, bounded, their temporary files removed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from armada.deployers.process import ChildLimits, run_process

REPO = Path(__file__).resolve().parents[3]


def _dead(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")  # a zombie is dead


def test_a_child_dies_with_the_thread_that_started_it(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # A parent that runs a long child from a worker thread, as the conductor runs helm.
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import threading
            from armada.deployers.process import run_process
            argv = ["sh", "-c", "echo $$ > {pidfile}; exec sleep 300"]
            t = threading.Thread(target=run_process, args=(argv,))
            t.start()
            t.join()
        """)],
        cwd=REPO,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not pidfile.exists() or not pidfile.read_text().strip():
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        child = int(pidfile.read_text())
        assert not _dead(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while not _dead(child):
            assert time.monotonic() < deadline, "the child outlived its killed parent"
            time.sleep(0.05)
    finally:
        parent.kill()
        parent.wait(10)


def test_a_child_gets_a_temporary_directory_of_its_own_removed_after(tmp_path: Path) -> None:
    script = 'echo "$TMPDIR"; touch "$TMPDIR/left-behind"; mkdir "$TMPDIR/helm-lint-1"'
    res = run_process(["sh", "-c", script], tmp_parent=tmp_path)
    assert res.returncode == 0, res.stderr
    used = Path(res.stdout.strip())
    assert used.parent == tmp_path
    assert not used.exists() and list(tmp_path.iterdir()) == []


def test_a_child_is_stopped_at_its_cpu_limit(tmp_path: Path) -> None:
    limits = ChildLimits(cpu_seconds=1)
    started = time.monotonic()
    res = run_process([sys.executable, "-c", "while True: pass"], limits=limits, timeout=60)
    assert time.monotonic() - started < 30
    assert res.returncode == -signal.SIGXCPU, res
    assert limits.describe(res) == "it used its 1 s of CPU time and was stopped"


def test_limits_apply_to_the_child_only() -> None:
    limits = ChildLimits(memory_bytes=256 * 1024 * 1024, cpu_seconds=7)
    res = run_process(["sh", "-c", "ulimit -d; ulimit -t"], limits=limits)
    assert res.stdout.split() == [str(256 * 1024), "7"]  # the soft limits
    mine = os.popen("sh -c 'ulimit -d'").read().strip()
    assert mine == "unlimited"
    assert limits.describe(res) is None
