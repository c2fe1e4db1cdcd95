"""The ``system`` CLI's habits, as StarlingX's and OpenStack's clients have them: help for
one command, -f/-c on every command that prints, empty tables, Python notation for lists
and booleans, readable nested values, errors that exit non-zero with a capital letter."""

from __future__ import annotations

import argparse
import io
import json
import os
import pty
import subprocess
import uuid
from pathlib import Path

import pytest

from sysinv_client import shell
from sysinv_client.commands.apps import final_view, progress_view
from sysinv_client.formatting import print_dict, print_list
from tests.api.test_apps_requests import bundle_bytes
from tests.e2e.conftest import BIN, Aio


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = shell.build_parser()
    commands: dict[str, argparse.ArgumentParser] = parser.parse_args(["help"]).commands
    return commands


def test_help_describes_one_command(aio: Aio) -> None:
    r = aio.system("help", "host-add")
    assert "usage: system host-add" in r.stdout and "--personality" in r.stdout
    r = aio.system("help", "no-such-command", check=False)
    assert r.returncode == 2 and "'no-such-command' is not a valid subcommand" in r.stderr
    assert "host-label-assign" in aio.system("help").stdout


def test_short_options_mean_one_thing_everywhere() -> None:
    for name, parser in subcommands().items():
        flags = {s: a for a in parser._actions for s in a.option_strings}
        if "--format" in flags:
            assert flags["-f"].dest == "format", name
            assert flags["-c"].dest == "columns", name
        for short, dest in (("-f", "format"), ("-c", "columns")):
            if short in flags and "--format" in flags:
                assert flags[short].dest == dest, name
        if "-y" in flags:
            # Only where something is asked first.
            assert name in {
                "host-delete", "host-label-remove", "application-remove", "application-delete",
            }, name  # fmt: skip
    add = {s: a.dest for a in subcommands()["host-add"]._actions for s in a.option_strings}
    assert add["--console"] == "console" and add["-c"] == "columns"
    lock = {s: a.dest for a in subcommands()["host-lock"]._actions for s in a.option_strings}
    assert lock["--force"] == "force" and lock["-f"] == "format"


def test_format_and_column_short_options(aio: Aio) -> None:
    name = f"h-{uuid.uuid4().hex[:6]}"
    # -c is a column here too: the console is --console only.
    out = aio.system("host-add", "-n", name, "-p", "worker", "--console", "ttyS0",
                     "-f", "json", "-c", "hostname", "-c", "console").stdout  # fmt: skip
    assert json.loads(out) == {"hostname": name, "console": "ttyS0"}
    listed = json.loads(aio.system("host-list", "-f", "json").stdout)
    assert name in {h["hostname"] for h in listed}
    r = aio.system("host-unlock", name, "-f", "value", "-c", "administrative")
    assert r.stdout.strip() == "unlocked"
    assert aio.system("host-lock", name, "-f", "value", "-c", "administrative").stdout.strip() == (
        "locked"
    )
    aio.system("host-delete", name)


def test_empty_list_prints_the_header(aio: Aio) -> None:
    assert aio.system("application-list").stdout.splitlines() == [
        "+-------------+---------+---------------+---------------+--------+----------+",
        "| application | version | manifest name | manifest file | status | progress |",
        "+-------------+---------+---------------+---------------+--------+----------+",
        "+-------------+---------+---------------+---------------+--------+----------+",
    ]


def test_values_print_as_starlingx_prints_them() -> None:
    out = io.StringIO()
    print_list(out, [{"a": ["hello"], "b": True, "c": None}], ["a", "b", "c"], ["a", "b", "c"])
    assert "| ['hello'] | True | None |" in out.getvalue()
    inventory = {
        "cpus": 4, "memory_mib": 15990,
        "disks": [{"device": "/dev/vda", "size_gib": 100}, {"device": "/dev/vdb", "size_gib": 5}],
        "interfaces": [{"name": "eth0", "mac": "02:00:00:00:00:01", "ips": ["10.0.0.2"]}],
    }  # fmt: skip
    out = io.StringIO()
    print_dict(out, {"hostname": "h", "inventory": inventory})
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) < 100  # not one long JSON line
    assert sum("|           |" in line for line in lines) >= 3  # spread over lines
    assert "'cpus': 4" in out.getvalue() and "'memory_mib': 15990" in out.getvalue()


def test_inventory_in_host_show_is_readable(aio: Aio) -> None:
    hosts = json.loads(aio.system("host-list", "-f", "json").stdout)
    shown = aio.system("host-show", str(hosts[0]["id"])).stdout.splitlines()
    assert max(len(line) for line in shown) <= 120, "\n".join(shown)


def test_label_remove_of_a_missing_label_fails(aio: Aio) -> None:
    name = f"h-{uuid.uuid4().hex[:6]}"
    aio.system("host-add", "-n", name, "-p", "worker")
    r = aio.system("host-label-remove", name, "nothere", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == f"Host label not found: host {name}, label key nothere"
    aio.system("host-delete", name)


def test_errors_start_with_a_capital_letter(aio: Aio) -> None:
    for args in (["host-show", "nobody"], ["application-apply", "nosuch"]):
        r = aio.system(*args, check=False)
        assert r.returncode == 1
        assert r.stderr[:1].isupper(), r.stderr


def run_in_terminal(aio: Aio, *args: str, stdin: bytes = b"") -> tuple[int, str]:
    """``system ARGS`` with a terminal as its standard input and output."""
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN / "system"), *args], stdin=child, stdout=child, stderr=child,
        env=dict(os.environ, SYSTEM_URL=aio.url, OS_AUTH_TOKEN="unused"),
    )  # fmt: skip
    os.close(child)
    if stdin:
        os.write(main, stdin)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_destructive_commands_ask_on_a_terminal(aio: Aio) -> None:
    name = f"h-{uuid.uuid4().hex[:6]}"
    aio.system("host-add", "-n", name, "-p", "worker")
    code, out = run_in_terminal(aio, "host-delete", name, stdin=b"n\n")
    assert code == 1 and f"Delete host(s) {name}?" in out and "Aborted" in out
    assert name in aio.system("host-list").stdout
    code, out = run_in_terminal(aio, "host-delete", name, stdin=b"y\n")
    assert code == 0 and f"Deleted host {name}" in out
    aio.system("host-add", "-n", name, "-p", "worker")
    code, out = run_in_terminal(aio, "host-delete", name, "--yes")
    assert code == 0 and "Delete host(s)" not in out


@pytest.mark.parametrize(
    ("status", "progress", "line"),
    [
        ("applying", "processing chart: hello-web, overall completion: 50%",
         "hello-app: applying [############------------]  50% chart hello-web"),
        ("applying", "validating the application bundle 1.0-1",
         "hello-app: applying, validating the application bundle 1.0-1"),
        ("removing", "", "hello-app: removing"),
    ],
)  # fmt: skip
def test_progress_line(status: str, progress: str, line: str) -> None:
    assert progress_view("hello-app", status, progress) == line


def test_wait_ends_with_the_status_reached() -> None:
    assert final_view("hello-app", "uploaded", "completed") == "hello-app: uploaded"
    assert final_view("hello-app", "applied", "completed") == "hello-app: applied"
    assert final_view("hello-app", "apply-failed", "chart x failed") == (
        "hello-app: apply-failed (chart x failed)"
    )


def test_wait_redraws_on_a_terminal_and_prints_lines_otherwise(aio: Aio, tmp_path: Path) -> None:
    # A bundle without a manifest: the upload runs, then fails, in a second or two.
    bundle = tmp_path / "hello-app-1.0-1.tgz"
    bundle.write_bytes(bundle_bytes())
    code, out = run_in_terminal(aio, "application-upload", str(bundle), "--wait", "-c", "name")
    assert code == 1
    assert "\r\x1b[K" in out  # one line, redrawn
    assert "hello-app: upload-failed (" in out
    aio.system("application-delete", "hello-app")
    done = aio.system("application-upload", str(bundle), "--wait", "-c", "name", check=False)
    assert done.returncode == 1
    assert "\r" not in done.stdout and "\x1b" not in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith("hello-app: upload-failed (")
    aio.system("application-delete", "hello-app")
