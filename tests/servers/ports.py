"""Free loopback ports, never the standard ones a machine may be using.

A port is handed out before the server that will listen on it is started (some, like the
kube-apiserver's webhook port, stay unbound for a long while). Within one process a port
is not handed out twice while that can matter; across the test processes of a
pytest-xdist run, each worker takes its ports from a block of its own below the kernel's
ephemeral range (32768 up), which nothing else hands out.
"""

from __future__ import annotations

import os
import socket
import time

RESERVED = {2379, 2380, 5000, 5432, 5672, 6379, 6385, 6443, 10250, 10257, 10259}
#: Worker gwN takes ports from [WORKER_BASE + N * WORKER_BLOCK, ... + WORKER_BLOCK):
#: eight workers fit under 32768.
WORKER_BASE = 20000
WORKER_BLOCK = 1500
_last_offset = -1


def _xdist_worker() -> int | None:
    """This process's pytest-xdist worker number (gw0 is 0), None outside xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else None


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    worker = _xdist_worker()
    if worker is None:
        # The kernel's choice: it moves on through its range rather than reuse at once.
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
            if port not in RESERVED:
                return port
    global _last_offset
    first = WORKER_BASE + worker * WORKER_BLOCK
    # Round the block from where the last call stopped, as the kernel does.
    for _ in range(WORKER_BLOCK):
        _last_offset = (_last_offset + 1) % WORKER_BLOCK
        port = first + _last_offset
        if port not in RESERVED and _bindable(port):
            return port
    raise RuntimeError(f"no free loopback port in {first}-{first + WORKER_BLOCK - 1}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_port(port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not open port {port} within {timeout:.0f} s")
        time.sleep(0.1)
