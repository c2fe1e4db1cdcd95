"""The ``system`` console script against a live ``sysinv aio`` process."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.e2e.conftest import Aio, start_aio, stop_aio


def test_banner_says_auth_is_off(aio: Aio) -> None:
    text = aio.log.read_text()
    assert "AUTHENTICATION IS OFF" in text
    assert str(aio.data_dir) in text
    assert (aio.data_dir / "sysinv.db").exists()


def test_show_and_modify(aio: Aio) -> None:
    shown = json.loads(aio.system("show", "--format", "json").stdout)
    assert shown["system_mode"] == "simplex"
    out = aio.system("modify", "--description", "edge lab", "--contact", "ops").stdout
    assert "edge lab" in out
    value = aio.system("show", "--format", "value", "-c", "description").stdout
    assert value.strip() == "edge lab"


def test_modify_timezone_coordinates_and_refusals(aio: Aio) -> None:
    out = aio.system("modify", "--timezone", "Europe/Paris", "--latitude", "-33.8688").stdout
    assert "Europe/Paris" in out and "-33.8688" in out
    bad = aio.system("modify", "--longitude", "200", check=False)
    assert bad.returncode == 1 and "Longitude must be between -180 and +180" in bad.stderr
    shown = json.loads(aio.system("show", "--format", "json").stdout)
    assert (shown["timezone"], shown["longitude"]) == ("Europe/Paris", None)
    assert shown["capabilities"]["vswitch_type"] == "none"
    aio.system("modify", "--timezone", "UTC")


def test_host_bulk_export_and_add(aio: Aio, tmp_path: Path) -> None:
    name = f"bulk-{uuid.uuid4().hex[:6]}"
    aio.system("host-add", "-n", name, "-p", "worker", "-l", "rack 9")
    exported = tmp_path / "hosts.xml"
    out = aio.system("host-bulk-export", "--filename", str(exported)).stdout
    assert f"Export successfully to {exported}" in out
    root = ET.parse(exported).getroot()
    (mine,) = [h for h in root.findall("host") if h.findtext("hostname") == name]
    aio.system("host-delete", name)
    # Only that host: added again. The whole export: the others exist, so it fails.
    single = tmp_path / "one.xml"
    single.write_bytes(b"<hosts>" + ET.tostring(mine) + b"</hosts>")
    out = aio.system("host-bulk-add", str(single)).stdout
    assert out.startswith(f"Success: \n {name}")
    shown = json.loads(aio.system("host-show", name, "--format", "json").stdout)
    assert (shown["personality"], shown["location"]) == ("worker", {"locn": "rack 9"})
    bad = aio.system("host-bulk-add", str(exported), check=False)
    assert bad.returncode == 1
    assert f"{name}: Host with hostname {name} already exists" in bad.stderr
    aio.system("host-delete", name)


def test_host_lifecycle(aio: Aio) -> None:
    out = aio.system("host-add", "-n", "worker-0", "-p", "worker", "-m", "08:00:27:00:00:01").stdout
    assert "worker-0" in out and "locked" in out
    listed = json.loads(aio.system("host-list", "--format", "json").stdout)
    (host,) = [h for h in listed if h["hostname"] == "worker-0"]
    assert set(host) == {"id", "hostname", "personality", "administrative", "operational",
                         "availability"}  # fmt: skip
    table = aio.system("host-list").stdout.splitlines()
    assert table[1].split("|")[1:-1] == [
        " id ", " hostname ", " personality ", " administrative ", " operational ",
        " availability ",
    ]  # fmt: skip

    by_id = yaml.safe_load(aio.system("host-show", str(host["id"]), "--format", "yaml").stdout)
    by_uuid = json.loads(aio.system("host-show", by_id["uuid"], "--format", "json").stdout)
    assert by_id["hostname"] == by_uuid["hostname"] == "worker-0"

    aio.system("host-update", "worker-0", "hostname=worker-1", "location=rack 4")
    shown: dict[str, Any] = json.loads(
        aio.system("host-show", "worker-1", "--format", "json").stdout
    )
    assert shown["location"] == {"locn": "rack 4"}

    bad = aio.system("host-lock", "worker-1", check=False)
    assert bad.returncode == 1
    assert "Avoiding lock action on already 'locked' host worker-1" in bad.stderr
    assert "unlocked" in aio.system("host-unlock", "worker-1").stdout
    bad = aio.system("host-update", "worker-1", "hostname=worker-2", check=False)
    assert bad.returncode == 1 and "while it is unlocked" in bad.stderr
    bad = aio.system("host-delete", "worker-1", check=False)
    assert bad.returncode == 1 and "unlocked" in bad.stderr
    aio.system("host-lock", "worker-1")
    assert "Deleted host worker-1" in aio.system("host-delete", "worker-1").stdout
    missing = aio.system("host-show", "worker-1", check=False)
    assert missing.returncode == 1 and "Host not found: worker-1" in missing.stderr


def test_labels(aio: Aio) -> None:
    name = f"w-{uuid.uuid4().hex[:6]}"
    aio.system("host-add", "-n", name, "-p", "worker")
    out = aio.system("host-label-assign", name, "openstack-compute-node=enabled", "zone=a").stdout
    assert "openstack-compute-node" in out and "zone" in out
    assert "Kubernetes node: skipped" in out
    bad = aio.system("host-label-assign", name, "zone=b", check=False)
    assert bad.returncode == 1
    assert f"Label zone exists for host {name}" in bad.stderr
    aio.system("host-label-assign", name, "zone=b", "--overwrite")
    labels = json.loads(aio.system("host-label-list", name, "--format", "json").stdout)
    assert {lb["label_key"]: lb["label_value"] for lb in labels} == {
        "openstack-compute-node": "enabled", "zone": "b",
    }  # fmt: skip
    assert all(lb["hostname"] == name for lb in labels)
    done = aio.system("host-label-remove", name, "zone", "nothere", check=False)
    assert f"Deleted host label zone for host {name}" in done.stdout
    assert done.returncode == 1
    assert f"Host label not found: host {name}, label key nothere" in done.stderr
    bad = aio.system("host-label-assign", name, "novalue", check=False)
    assert bad.returncode == 1 and "expected key=value" in bad.stderr
    bad = aio.system("host-label-assign", name, "bad key=x", check=False)
    assert bad.returncode == 1 and "Invalid label key" in bad.stderr


def test_errors_and_usage(aio: Aio) -> None:
    r = aio.system("host-show", "nobody", check=False)
    assert (r.returncode, r.stderr.strip()) == (1, "Host not found: nobody")
    r = aio.system("application-show", "nothing", check=False)
    assert r.returncode == 1 and "Application nothing not found" in r.stderr
    r = aio.system("no-such-command", check=False)
    assert r.returncode == 2
    assert "host-label-assign" in aio.system("help").stdout


def test_unreachable_server_is_a_clear_error(aio: Aio) -> None:
    import subprocess

    from tests.e2e.conftest import BIN
    from tests.servers.ports import free_port

    r = subprocess.run(
        [str(BIN / "system"), "--system-url", f"http://127.0.0.1:{free_port()}", "host-list"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert r.returncode == 1 and "Cannot reach sysinv" in r.stderr
    r = subprocess.run([str(BIN / "system"), "host-list"], capture_output=True, text=True,
                       env={"PATH": "/usr/bin"}, timeout=30)  # fmt: skip
    assert r.returncode == 1 and "SYSTEM_URL" in r.stderr


def test_data_survives_a_restart(tmp_path: Any) -> None:
    first = start_aio(tmp_path / "data")
    try:
        first.system("host-add", "-n", "keeper", "-p", "controller")
    finally:
        stop_aio(first)
    second = start_aio(tmp_path / "data")
    try:
        hosts = json.loads(second.system("host-list", "--format", "json").stdout)
        assert "keeper" in [h["hostname"] for h in hosts]
    finally:
        stop_aio(second)


def test_host_list_pages_through_every_host(tmp_path: Any) -> None:
    """Pages of at most api.limit_max hosts (here 2): host-list, and host-show by name,
    follow the next links to the last host."""
    aio = start_aio(tmp_path / "data", env={"SYSINV_API__LIMIT_MAX": "2"})
    try:
        names = [f"paged-{i}" for i in range(5)]
        for name in names:
            aio.system("host-add", "-n", name, "-p", "worker")
        page = httpx.get(f"{aio.url}/v1/ihosts?limit=1000", timeout=10).json()
        assert len(page["ihosts"]) == 2 and "marker=" in page["next"]
        hosts = json.loads(aio.system("host-list", "--format", "json").stdout)
        assert set(names) <= {h["hostname"] for h in hosts}
        assert len(hosts) == len({h["id"] for h in hosts})
        shown = json.loads(aio.system("host-show", names[-1], "--format", "json").stdout)
        assert shown["hostname"] == names[-1]
    finally:
        stop_aio(aio)


def test_local_agent_registers_this_machine(aio: Aio) -> None:
    import socket
    import time

    # The agent names the machine as its /etc/hostname does, else as the kernel does.
    try:
        name = Path("/etc/hostname").read_text().strip() or socket.gethostname()
    except OSError:
        name = socket.gethostname()
    deadline = time.monotonic() + 30
    while True:
        hosts = json.loads(aio.system("host-list", "--format", "json").stdout)
        names = [h["hostname"] for h in hosts]
        if name in names:
            break
        assert time.monotonic() < deadline, names
        time.sleep(0.5)
    shown = json.loads(aio.system("host-show", name, "--format", "json").stdout)
    assert shown["inventory"]["cpus"] and shown["inventory"]["memory_bytes"]
    assert shown["availability"] == "online"
    while shown["config_applied"] != shown["config_target"]:
        assert time.monotonic() < deadline, shown
        time.sleep(0.5)
        shown = json.loads(aio.system("host-show", name, "--format", "json").stdout)
    assert shown["config_status"] is None
    assert (aio.data_dir / "node" / "etc/docker/daemon.json").is_file()
    # Its reports were signed with a key from the conductor's master, made 0600 at start.
    master = aio.data_dir / "agent-master.key"
    assert master.stat().st_mode & 0o777 == 0o600
    log = aio.log.read_text()
    assert "the report for" not in log and master.read_text().strip() not in log
