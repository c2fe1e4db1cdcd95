"""A throwaway Ceph cluster from Debian's packages: one monitor, one manager and memstore
OSDs, cephx on, every port on loopback and every file under one temporary directory.

``CephCluster().start()`` returns when the cluster is HEALTH_OK with its first OSD up (7-13 s
on two cores); ``add_osd()`` adds another for tests that need two copies of an object.
Clients use ``conf_file`` and ``admin_keyring`` (0600). Tests share one cluster and give
themselves their own pools.

What makes it start and stop cleanly on these machines: a ``keyring =`` line in
``[global]`` breaks the manager's and OSDs' authentication, so each daemon's keyring is
named in its own section; the disk is close to the monitor's default free-space warning,
so the warning threshold is lowered; pools of one copy need ``mon allow pool size one``;
and the daemons stop OSDs first, then the manager, then the monitor.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.servers import procs
from tests.servers.ports import free_port
from tests.servers.procs import ManagedProcess

BINARIES = ("ceph-mon", "ceph-mgr", "ceph-osd", "ceph", "ceph-authtool", "monmaptool")
APT_PACKAGES = "ceph-mon ceph-mgr ceph-osd ceph-common"
MON_ID = "a"
MGR_ID = "x"


def _conf(base: Path, fsid: str, mon_addr: str) -> str:
    return f"""\
[global]
fsid = {fsid}
mon host = {mon_addr}
mon initial members = {MON_ID}
public network = 127.0.0.0/8
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
run dir = {base}/run
admin socket = {base}/run/$name.asok
pid file = {base}/run/$name.pid
log file = {base}/log/$name.log
mon data = {base}/mon/$cluster-$id
mgr data = {base}/mgr/$cluster-$id
osd data = {base}/osd/$cluster-$id
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
osd objectstore = memstore
memstore device bytes = 1073741824
osd max object name len = 256
osd max object namespace len = 64
[client]
keyring = {base}/admin.keyring
[mgr]
keyring = {base}/mgr/$cluster-$id/keyring
[osd]
keyring = {base}/osd/$cluster-$id/keyring
"""


class CephCluster:
    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="sysinv-ceph-"))
        self.fsid = str(uuid.uuid4())
        self.v2_port = free_port()
        self.v1_port = free_port()
        self.conf_file = self.base / "ceph.conf"
        self.admin_keyring = self.base / "admin.keyring"
        self.mon: ManagedProcess | None = None
        self.mgr: ManagedProcess | None = None
        self.osds: dict[int, ManagedProcess] = {}

    @property
    def mon_addr(self) -> str:
        """The monitor's address in ``mon host`` form (both protocols)."""
        return f"[v2:127.0.0.1:{self.v2_port},v1:127.0.0.1:{self.v1_port}]"

    @property
    def monitors(self) -> list[str]:
        """The monitor as clients name it in StarlingX's overrides: ``host:port`` (v1)."""
        return [f"127.0.0.1:{self.v1_port}"]

    def admin_key(self) -> str:
        out = self._run("ceph-authtool", "-p", "-n", "client.admin", str(self.admin_keyring))
        return out.strip()

    # -- commands ----------------------------------------------------------------------------

    def _run(self, *argv: str, input: str | None = None, timeout: float = 30) -> str:
        done = subprocess.run(
            list(argv), input=input, capture_output=True, text=True, timeout=timeout,
            cwd=self.base,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:3])} failed ({done.returncode}): {done.stderr}")
        return done.stdout

    def ceph(self, *args: str, input: str | None = None, timeout: float = 30) -> str:
        """``ceph`` as client.admin; ``--connect-timeout`` so a dead monitor is an error."""
        return self._run(
            "ceph", "-c", str(self.conf_file), "--connect-timeout", "10", *args,
            input=input, timeout=timeout,
        )  # fmt: skip

    def ceph_json(self, *args: str) -> Any:
        return json.loads(self.ceph(*args, "-f", "json"))

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> CephCluster:
        missing = [b for b in BINARIES if shutil.which(b) is None]
        if missing:
            raise RuntimeError(
                f"Ceph is not installed ({', '.join(missing)} missing): apt install {APT_PACKAGES}"
            )
        started = time.monotonic()
        procs.register(self)
        for d in ("run", "log", f"mon/ceph-{MON_ID}", f"mgr/ceph-{MGR_ID}", "osd"):
            (self.base / d).mkdir(parents=True, exist_ok=True)
        self.conf_file.write_text(_conf(self.base, self.fsid, self.mon_addr))
        mon_keyring = self.base / "mon.keyring"
        self._run("ceph-authtool", "--create-keyring", str(mon_keyring), "--gen-key", "-n", "mon.",
                  "--cap", "mon", "allow *")  # fmt: skip
        self._run("ceph-authtool", "--create-keyring", str(self.admin_keyring), "--gen-key",
                  "-n", "client.admin", "--cap", "mon", "allow *", "--cap", "osd", "allow *",
                  "--cap", "mds", "allow *", "--cap", "mgr", "allow *")  # fmt: skip
        os.chmod(self.admin_keyring, 0o600)
        self._run("ceph-authtool", str(mon_keyring), "--import-keyring", str(self.admin_keyring))
        monmap = self.base / "monmap"
        self._run("monmaptool", "--create", "--addv", MON_ID, self.mon_addr, "--fsid", self.fsid,
                  str(monmap))  # fmt: skip
        self._run("ceph-mon", "-c", str(self.conf_file), "--mkfs", "-i", MON_ID, "--monmap",
                  str(monmap), "--keyring", str(mon_keyring))  # fmt: skip
        self.mon = self._daemon("ceph-mon", MON_ID)
        self._wait(lambda: self._answers(), 30, "ceph-mon to answer", self.mon)
        mgr_keyring = self.base / f"mgr/ceph-{MGR_ID}/keyring"
        self.ceph("auth", "get-or-create", f"mgr.{MGR_ID}", "mon", "allow profile mgr", "osd",
                  "allow *", "mds", "allow *", "-o", str(mgr_keyring))  # fmt: skip
        self.mgr = self._daemon("ceph-mgr", MGR_ID)
        self.add_osd(wait=False)
        self._wait(lambda: self.health() == "HEALTH_OK" and self.up_osds() == 1, 120,
                   "HEALTH_OK with one OSD up", self.mgr)  # fmt: skip
        print(f">> ceph on {self.mon_addr} in {time.monotonic() - started:.1f} s", file=sys.stderr)
        return self

    def _daemon(self, binary: str, ident: str) -> ManagedProcess:
        return ManagedProcess(
            f"{binary}.{ident}",
            [binary, "-c", str(self.conf_file), "-i", ident, "-f"],
            self.base / "log" / f"{binary}.{ident}.out",
        )

    def add_osd(self, wait: bool = True) -> int:
        """Create and start one more memstore OSD; with ``wait``, return once it is up and in
        and the cluster is HEALTH_OK again."""
        osd_uuid = str(uuid.uuid4())
        secret = self._run("ceph-authtool", "--gen-print-key").strip()
        ident = int(self.ceph("osd", "new", osd_uuid, "-i", "-",
                              input=json.dumps({"cephx_secret": secret})).strip())  # fmt: skip
        data = self.base / f"osd/ceph-{ident}"
        data.mkdir(parents=True, exist_ok=True)
        self._run("ceph-authtool", "--create-keyring", str(data / "keyring"), "--name",
                  f"osd.{ident}", "--add-key", secret)  # fmt: skip
        self._run("ceph-osd", "-c", str(self.conf_file), "-i", str(ident), "--mkfs",
                  "--osd-uuid", osd_uuid, timeout=60)  # fmt: skip
        proc = self._daemon("ceph-osd", str(ident))
        self.osds[ident] = proc
        if wait:
            count = len(self.osds)
            self._wait(lambda: self.up_osds() == count and self.health() == "HEALTH_OK", 120,
                       f"osd.{ident} up and HEALTH_OK", proc)  # fmt: skip
        return ident

    def _answers(self) -> bool:
        try:
            self.ceph("mon", "stat", timeout=10)
        except (RuntimeError, subprocess.TimeoutExpired):
            return False
        return True

    def health(self) -> str:
        try:
            return self.ceph("health", timeout=10).strip()
        except (RuntimeError, subprocess.TimeoutExpired):
            return ""

    def up_osds(self) -> int:
        try:
            return int(self.ceph_json("osd", "stat")["num_up_osds"])
        except (RuntimeError, subprocess.TimeoutExpired, KeyError, ValueError):
            return 0

    def _wait(self, done: Any, timeout: float, what: str, proc: ManagedProcess) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            proc.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Ceph: no {what} within {timeout:.0f} s ({self.health() or 'no answer'})"
                )
            time.sleep(0.5)

    # -- pools, for tests ----------------------------------------------------------------------

    def delete_pool(self, pool: str) -> None:
        self.ceph("osd", "pool", "delete", pool, pool, "--yes-i-really-really-mean-it")

    def stop(self) -> None:
        # OSDs, then the manager, then the monitor: the monitor must see the others go.
        for proc in [*self.osds.values(), self.mgr, self.mon]:
            if proc is not None:
                proc.stop()
        self.osds.clear()
        self.mgr = self.mon = None
        shutil.rmtree(self.base, ignore_errors=True)
        procs.unregister(self)
