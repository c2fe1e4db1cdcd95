"""One connection to a Ceph cluster, with a timeout on everything it does.

A connection is made for one piece of work and closed after it (``connect`` is a context
manager): the conductor keeps no Ceph session open between tasks, so a cluster that went
away costs one timed-out connect, never a hung worker. The client reads no ``ceph.conf``:
monitors, identity and key come from the caller, so an external cluster's settings never
mix with a local file's.

Timeouts (``CephClientSettings``): ``client_mount_timeout`` and ``connect(timeout=)`` bound
reaching and authenticating with a monitor; ``rados_mon_op_timeout`` and
``rados_osd_op_timeout`` bound every monitor command and object operation after that.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from sysinv_common.conf.ceph import CephClientSettings
from sysinv_common.errors import Conflict, InvalidInput, NotFound, Unavailable
from sysinv_conductor.ceph import bindings

LOG = logging.getLogger(__name__)

#: ``-ENOENT``, ``-EBUSY`` and ``-EEXIST`` as monitor and manager commands answer them.
ENOENT = -2
EBUSY = -16
EEXIST = -17
#: What a monitor command answers when ``rados_mon_op_timeout`` ran out.
ETIMEDOUT = -110


@dataclass(frozen=True)
class CephTarget:
    """Where a cluster is and who to be there. ``keyring_path`` names a keyring file with
    ``user``'s key (an admin keyring is only ever referenced, never copied); ``key`` is a
    key itself (a client key read back from Kubernetes, for instance)."""

    monitors: tuple[str, ...]
    user: str = "admin"
    keyring_path: Path | None = None
    key: str | None = field(default=None, repr=False)
    #: When given, a cluster answering with another fsid is refused.
    fsid: str | None = None

    def describe(self) -> str:
        return ",".join(self.monitors)


class CephCommandFailed(Conflict):
    """A monitor refused a command; ``errno`` is its (negative) return code."""

    def __init__(self, message: str, errno: int) -> None:
        super().__init__(message)
        self.errno = errno


class CephClient:
    def __init__(self, cluster: Any, target: CephTarget, settings: CephClientSettings) -> None:
        self.cluster = cluster
        self.target = target
        self.settings = settings

    @property
    def fsid(self) -> str:
        return str(self.cluster.get_fsid())

    def command(self, prefix: str, **args: Any) -> Any:
        """Run one monitor command; its JSON answer (None when it has none).

        Raises ``CephCommandFailed`` when the monitor refuses it and ``Unavailable`` when
        it does not answer within ``op_timeout``."""
        return self._send(self.cluster.mon_command, prefix, args)

    def mgr_command(self, prefix: str, **args: Any) -> Any:
        """Run one manager command (``osd purge``: the manager checks, then tells the
        monitors), as :meth:`command` does."""
        return self._send(self.cluster.mgr_command, prefix, args)

    def tell(self, daemon: Literal["mon", "mgr"], name: str, prefix: str, **args: Any) -> Any:
        """Run one command of a daemon's own (``ceph tell mon.<name>``, ``mgr.<name>``: its
        running settings, say), as :meth:`command` does."""
        send = self.cluster.mon_command if daemon == "mon" else self.cluster.mgr_command
        return self._send(partial(send, target=name), prefix, args)

    def _send(self, send: Any, prefix: str, args: dict[str, Any]) -> Any:
        request = {"prefix": prefix, "format": "json", **args}
        rados = bindings.rados()
        try:
            ret, out, err = send(json.dumps(request), b"", timeout=int(self.settings.op_timeout))
        except rados.TimedOut:
            raise Unavailable(
                f"Ceph at {self.target.describe()} did not answer '{prefix}' within "
                f"{self.settings.op_timeout:g} s"
            ) from None
        except rados.Error as exc:
            raise Unavailable(
                f"Ceph at {self.target.describe()}: '{prefix}' failed: {exc}"
            ) from None
        if ret == ETIMEDOUT:
            raise Unavailable(
                f"Ceph at {self.target.describe()} did not answer '{prefix}' within "
                f"{self.settings.op_timeout:g} s"
            )
        if ret != 0:
            raise CephCommandFailed(f"Ceph refused '{prefix}': {err or f'error {ret}'}", ret)
        return json.loads(out) if out else None

    @contextmanager
    def ioctx(self, pool: str) -> Iterator[Any]:
        """An I/O context on ``pool`` (``rados.Ioctx``), closed on exit."""
        rados = bindings.rados()
        try:
            io = self.cluster.open_ioctx(pool)
        except rados.ObjectNotFound:
            raise NotFound(f"Ceph pool {pool} does not exist") from None
        except rados.Error as exc:
            raise Unavailable(f"Ceph pool {pool} cannot be opened: {exc}") from None
        try:
            yield io
        finally:
            io.close()


def _conf(target: CephTarget, settings: CephClientSettings) -> dict[str, str]:
    conf = {
        "mon_host": ",".join(target.monitors),
        "auth_client_required": "cephx",
        "client_mount_timeout": str(int(settings.connect_timeout)),
        "rados_mon_op_timeout": str(int(settings.op_timeout)),
        "rados_osd_op_timeout": str(int(settings.op_timeout)),
        # No ceph.conf and no default keyring search: only what the target says.
        "keyring": str(target.keyring_path) if target.keyring_path else "/dev/null",
        # The client's own log stays out of /var/log/ceph (which may not exist here).
        "log_to_stderr": "false",
        "log_file": "/dev/null",
    }
    if target.key is not None:
        conf["key"] = target.key
    return conf


@contextmanager
def connect(target: CephTarget, settings: CephClientSettings) -> Iterator[CephClient]:
    """A connection to ``target``, shut down on exit.

    Raises ``InvalidInput`` for a target that cannot work (no monitors, an unreadable
    keyring file), ``Unavailable`` when no monitor accepts the connection within
    ``connect_timeout`` (down, unreachable, or a key it does not know: Ceph's client cannot
    tell them apart), and ``Conflict`` when the cluster is not the one ``fsid`` names."""
    if not target.monitors:
        raise InvalidInput("no Ceph monitor given")
    if target.key is None:
        if target.keyring_path is None:
            raise InvalidInput("no Ceph key or keyring file given")
        try:
            text = target.keyring_path.read_text()
        except OSError as exc:
            raise InvalidInput(
                f"Ceph keyring {target.keyring_path} cannot be read: {exc.strerror}"
            ) from None
        if f"[client.{target.user}]" not in text:
            raise InvalidInput(
                f"Ceph keyring {target.keyring_path} has no key of client.{target.user}"
            )
    rados = bindings.rados()
    try:
        cluster = rados.Rados(
            rados_id=target.user, conffile="/dev/null", conf=_conf(target, settings)
        )
    except rados.Error as exc:
        raise InvalidInput(f"invalid Ceph client settings: {exc}") from None
    try:
        try:
            cluster.connect(timeout=int(settings.connect_timeout))
        except rados.TimedOut:
            raise Unavailable(
                f"no Ceph monitor at {target.describe()} accepted client.{target.user} within "
                f"{settings.connect_timeout:g} s (monitors down or unreachable, or a key they "
                "do not know)"
            ) from None
        except rados.Error as exc:
            raise Unavailable(
                f"cannot connect to Ceph at {target.describe()} as client.{target.user}: {exc}"
            ) from None
        client = CephClient(cluster, target, settings)
        if target.fsid is not None and client.fsid != target.fsid:
            raise Conflict(
                f"the Ceph cluster at {target.describe()} has fsid {client.fsid}, not {target.fsid}"
            )
        yield client
    finally:
        cluster.shutdown()
