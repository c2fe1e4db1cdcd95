"""Test servers' ports: under pytest-xdist, each worker from a block of its own."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.servers import ports


def test_an_xdist_worker_takes_ports_from_its_own_block_never_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The last block a run of eight workers could use: not this run's own workers'.
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw7")
    block = range(
        ports.WORKER_BASE + 7 * ports.WORKER_BLOCK, ports.WORKER_BASE + 8 * ports.WORKER_BLOCK
    )
    monkeypatch.setattr(ports, "_last_offset", -1)
    taken = ports.free_port()
    monkeypatch.setattr(ports, "_last_offset", -1)
    with socket.socket() as held:  # a port someone listens on is passed over
        held.bind(("127.0.0.1", taken))
        held.listen()
        given = [ports.free_port() for _ in range(20)]
    assert taken not in given
    assert len(set(given)) == 20
    assert all(p in block for p in [taken, *given])


def test_outside_xdist_the_kernel_chooses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    assert low <= ports.free_port() <= high
    assert low >= ports.WORKER_BASE + 8 * ports.WORKER_BLOCK  # the workers' blocks lie below
