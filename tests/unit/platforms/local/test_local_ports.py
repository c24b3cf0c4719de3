"""Ports chosen for local listeners: outside the kernel's ephemeral range, reserved across processes.

The CI failure this guards against: a broker's replication port, chosen by binding port 0 and released,
was taken (by an outbound connection's kernel-chosen local port, or by another worker's choice) in the
seconds before Kafka bound it, and the broker exited with "Address already in use".
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kconform.errors import PlatformError, UsageError
from kconform.platforms.local import ports


@pytest.fixture
def few_candidates(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Three candidate ports that nothing listens on now, so every reservation rule is visible."""
    found: list[int] = []
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
    for port in range(max(base, 20000), 65535):
        if port not in ports._held and ports._bindable("127.0.0.1", port):
            found.append(port)
        if len(found) == 3:
            break
    monkeypatch.setattr(ports, "candidate_ports", lambda _ephemeral: list(found))
    yield found
    ports.release(found)


def test_ports_are_chosen_outside_the_ephemeral_range(tmp_path: Path) -> None:
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text("32768\t60999\n")
    ephemeral = ports.ephemeral_range(range_file)
    assert ephemeral == (32768, 60999)
    candidates = ports.candidate_ports(ephemeral)
    assert not [p for p in candidates if 32768 <= p <= 60999]
    assert min(candidates) == ports.LOWEST_PORT and max(candidates) == 65535
    chosen = ports.free_ports(20)
    try:
        low, high = ports.ephemeral_range()
        assert not [p for p in chosen if low <= p <= high], (chosen, (low, high))
        assert len(set(chosen)) == 20
    finally:
        ports.release(chosen)


def test_a_kernel_range_that_leaves_too_few_ports_falls_back_to_all_of_them(tmp_path: Path) -> None:
    assert len(ports.candidate_ports((1024, 65000))) == 65535 - ports.LOWEST_PORT + 1
    unreadable = tmp_path / "missing"
    assert ports.ephemeral_range(unreadable) == (32768, 60999)


def test_a_port_is_not_handed_out_twice_until_released(few_candidates: list[int]) -> None:
    first = ports.free_ports(2)
    (third,) = ports.free_ports(1)
    assert sorted([*first, third]) == sorted(few_candidates)
    with pytest.raises(PlatformError, match="fewer than 1 free ports"):
        ports.free_ports(1)
    ports.release([third])
    assert ports.free_ports(1) == [third]
    with pytest.raises(UsageError):
        ports.free_ports(0)


def test_a_port_another_process_reserved_is_skipped_and_freed_when_it_exits(
    few_candidates: list[int],
) -> None:
    held = few_candidates[:2]
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys
                from kconform.platforms.local import ports
                ports.candidate_ports = lambda _ephemeral: {held!r}
                print(sorted(ports.free_ports(2)), flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == str(sorted(held))
        assert ports.free_ports(1) == [few_candidates[2]]
        with pytest.raises(PlatformError):
            ports.free_ports(1)
        holder.stdin.close()  # the holder ends; the kernel drops its locks with it
        holder.wait(timeout=30)
        assert sorted(ports.free_ports(2)) == sorted(held)
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_a_port_something_listens_on_is_skipped(few_candidates: list[int]) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", few_candidates[0]))
        listener.listen()
        chosen = ports.free_ports(2)
        assert few_candidates[0] not in chosen
    ports.release(chosen)
    assert few_candidates[0] not in ports._held  # its reservation was given back when the bind failed


def test_reservations_are_files_locked_in_a_private_directory() -> None:
    (port,) = ports.free_ports(1)
    try:
        directory = ports.reservation_dir()
        assert directory.stat().st_mode & 0o777 == 0o700
        fd = os.open(directory / str(port), os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    finally:
        ports.release([port])
