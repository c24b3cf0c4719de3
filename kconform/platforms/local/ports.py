"""Ports for local listeners, held for their owner until it lets them go, and waiting for a listener.

A port is chosen here and bound by a JVM seconds later (Kafka binds its acceptors late in its startup), so
two things could take it in between, and a broker then exits with "Address already in use":
- any outbound connection on this machine, whose local port the kernel picks from the ephemeral range
  (net.ipv4.ip_local_port_range). Ports are therefore chosen outside that range.
- another kconform process or thread choosing the same port. Each chosen port is therefore reserved with
  an exclusive flock on a file named after it, held until `release()` or until the process exits (the
  kernel drops the lock with the process, so a killed run leaves nothing reserved).
A port some other program binds by number in that window is still a possible loser; `wait_for_port`
reports that at once with the process's log tail.
"""

from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from kconform.errors import PlatformError, UsageError
from kconform.platforms.local.processes import ManagedProcess
from kconform.waits import wait_until

LOWEST_PORT = 10000  # below: well-known and registered services more often listen
HIGHEST_PORT = 65535
_EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_FALLBACK_EPHEMERAL = (32768, 60999)  # Linux's default, used where the kernel does not say

# Process-wide, like the ports themselves: port -> the open lock file that reserves it.
_held: dict[int, int] = {}
_held_lock = threading.Lock()


def ephemeral_range(path: Path = _EPHEMERAL_RANGE_FILE) -> tuple[int, int]:
    try:
        low, high = (int(part) for part in path.read_text(encoding="ascii").split())
    except (OSError, ValueError):
        return _FALLBACK_EPHEMERAL
    return low, high


def candidate_ports(ephemeral: tuple[int, int]) -> list[int]:
    """Ports outside the ephemeral range; all of them if the range leaves too few (a wide kernel setting)."""
    low, high = ephemeral
    outside = [p for p in range(LOWEST_PORT, HIGHEST_PORT + 1) if not low <= p <= high]
    return outside if len(outside) >= 1000 else list(range(LOWEST_PORT, HIGHEST_PORT + 1))


def reservation_dir() -> Path:
    path = Path(tempfile.gettempdir()) / f"kconform-ports-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def free_port(host: str = "127.0.0.1") -> int:
    return free_ports(1, host)[0]


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """`n` distinct ports, free to bind on `host` now and reserved for this process until `release()`."""
    if n < 1:
        raise UsageError(f"free_ports needs n >= 1, not {n}")
    candidates = candidate_ports(ephemeral_range())
    start = random.randrange(len(candidates))  # noqa: S311 - spreads concurrent callers, not a secret
    directory = reservation_dir()
    chosen: list[int] = []
    for i in range(len(candidates)):
        port = candidates[(start + i) % len(candidates)]
        if not _reserve(directory, port):
            continue  # this process or another kconform process holds it
        if not _bindable(host, port):
            release([port])  # something else listens there
            continue
        chosen.append(port)
        if len(chosen) == n:
            return chosen
    release(chosen)
    raise PlatformError(f"found fewer than {n} free ports between {LOWEST_PORT} and {HIGHEST_PORT}")


def release(ports: Iterable[int]) -> None:
    """Let ports go once nothing of their owner listens on them any more; unknown ports are ignored."""
    with _held_lock:
        fds = [_held.pop(port) for port in ports if port in _held]
    for fd in fds:
        os.close(fd)  # closing the only descriptor drops the flock


def _reserve(directory: Path, port: int) -> bool:
    with _held_lock:
        if port in _held:
            return False
        try:
            fd = os.open(directory / str(port), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False  # another kconform process holds it
        _held[port] = fd
        return True


def _bindable(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float, process: ManagedProcess | None = None) -> None:
    """Wait until `host:port` accepts TCP connections; fail at once if `process` exits meanwhile."""

    def listening() -> bool:
        if process is not None:
            process.ensure_alive()  # PlatformError with the log tail: not retried, ends the wait
        return port_open(host, port)

    def diagnose() -> str:
        if process is None:
            return "no process given to inspect"
        return f"last lines of {process.log_path}:\n{process.tail(30)}"

    who = f" ({process.name}, pid {process.pid})" if process is not None else ""
    wait_until(
        listening, describe=f"{host}:{port} to accept connections{who}", timeout=timeout, diagnose=diagnose
    )
