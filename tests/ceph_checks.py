"""What a Ceph client key may do, checked with the rados/rbd bindings as the rbd
provisioner would use them: an image made, written, read and removed in its pool; nothing
at all in another one."""

from __future__ import annotations

import pytest
import rados
import rbd

from sysinv_common.conf.ceph import CephClientSettings
from sysinv_conductor.ceph.client import CephTarget, connect

SETTINGS = CephClientSettings(connect_timeout=5, op_timeout=10)


def assert_key_confined_to(monitors: list[str], user: str, key: str, pool: str, other: str) -> None:
    """``client.<user>`` with ``key`` has rbd in ``pool`` and is refused in ``other``."""
    target = CephTarget(monitors=tuple(monitors), user=user, key=key)
    with connect(target, SETTINGS) as client:
        with client.ioctx(pool) as io:
            rbd.RBD().create(io, "img", 4 * 1024 * 1024)
            with rbd.Image(io, "img") as image:
                image.write(b"persistent", 4096)
                assert image.read(4096, 10) == b"persistent"
            rbd.RBD().remove(io, "img")
            assert rbd.RBD().list(io) == []
        with client.ioctx(other) as io:
            with pytest.raises(rbd.PermissionError):
                rbd.RBD().create(io, "img", 4 * 1024 * 1024)
            with pytest.raises(rados.PermissionError):
                io.write_full("plain-object", b"data")
