"""The process supervisor with real processes (groups, stop order, log tails, sweeping); ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kconform.errors import PlatformError, UsageError, WaitTimeout
from kconform.platforms.local import processes
from kconform.platforms.local.ports import free_port, free_ports, port_open, wait_for_port
from kconform.platforms.local.processes import (
    ProcessSupervisor,
    find_run_processes,
    group_members,
    sweep_stale,
)
from kconform.waits import wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[4]

# A child that records its pid (and, on SIGTERM, a note) and then blocks until signalled.
BLOCKER = textwrap.dedent(
    """
    import os, signal, sys
    out = sys.argv[1]
    def on_term(signum, frame):
        with open(out + ".term", "a") as f:
            f.write(sys.argv[2] + "\\n") if len(sys.argv) > 2 else f.write("term\\n")
        os._exit(0)
    signal.signal(signal.SIGTERM, on_term)
    with open(out + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(out + ".tmp", out)
    print("blocker ready", flush=True)
    while True:
        signal.pause()
    """
)


def _run_id() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def _read_pid(path: Path, timeout: float = 20) -> int:
    text = wait_until(
        lambda: path.read_text().strip() if path.exists() else None,
        describe=f"a pid in {path}",
        timeout=timeout,
        interval=0.05,
    )
    return int(text)


def _gone(pid: int) -> bool:
    """True when the pid no longer runs (absent or a zombie awaiting its reaper)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def _wait_gone(pid: int, timeout: float = 20) -> None:
    wait_until(lambda: _gone(pid), describe=f"pid {pid} to end", timeout=timeout, interval=0.05)


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[ProcessSupervisor]:
    with ProcessSupervisor(_run_id(), tmp_path / "logs") as sup:
        yield sup


def test_start_marks_env_logs_output_and_stop_kills_the_grandchild(
    supervisor: ProcessSupervisor, tmp_path: Path
) -> None:
    script = textwrap.dedent(
        f"""
        import subprocess, sys
        print("parent says hello", flush=True)
        subprocess.Popen([sys.executable, "-c", {BLOCKER!r}, sys.argv[1]])
        exec({BLOCKER!r}.replace("sys.argv[1]", "sys.argv[2]"))
        """
    )
    grandchild_file, child_file = tmp_path / "grandchild.pid", tmp_path / "child.pid"
    child = supervisor.start("family", [sys.executable, "-c", script, str(grandchild_file), str(child_file)])
    child_pid, grandchild_pid = _read_pid(child_file), _read_pid(grandchild_file)
    assert child_pid == child.pid
    assert os.getpgid(grandchild_pid) == child.pid  # same group, own session
    assert os.getsid(child.pid) == child.pid
    assert sorted(find_run_processes(supervisor.run_id)) == sorted([child_pid, grandchild_pid])
    environ = Path(f"/proc/{child.pid}/environ").read_bytes().split(b"\0")
    assert f"KCONFORM_OWNER_PID={os.getpid()}".encode() in environ
    wait_until(lambda: "blocker ready" in child.tail(), describe="the log to show output", timeout=20)
    assert child.log_path == tmp_path / "logs" / "family.log"
    assert "parent says hello" in child.tail()

    supervisor.stop_all(timeout=10)
    assert not child.alive()
    _wait_gone(grandchild_pid)
    assert find_run_processes(supervisor.run_id) == []
    assert group_members(child.pid) == []
    child.stop()  # idempotent


def test_stop_all_goes_in_reverse_start_order(supervisor: ProcessSupervisor, tmp_path: Path) -> None:
    record = tmp_path / "order"
    for name in ("first", "second", "third"):
        supervisor.start(name, [sys.executable, "-c", BLOCKER, str(record), name])
        _read_pid(record)  # started and handler installed before the next one
        record.unlink()
    supervisor.stop_all(timeout=10)
    assert Path(f"{record}.term").read_text().split() == ["third", "second", "first"]


def test_a_process_ignoring_sigterm_is_killed_after_the_timeout(
    supervisor: ProcessSupervisor, tmp_path: Path
) -> None:
    ready = tmp_path / "ready"
    script = (
        "import signal, sys, pathlib\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "pathlib.Path(sys.argv[1]).write_text('x')\n"
        "while True: signal.pause()\n"
    )
    stubborn = supervisor.start("stubborn", [sys.executable, "-c", script, str(ready)])
    wait_until(ready.exists, describe="stubborn child ready", timeout=20, interval=0.05)
    stubborn.stop(timeout=0.5)
    assert stubborn.returncode == -signal.SIGKILL


def test_ensure_alive_reports_exit_code_and_log_tail(supervisor: ProcessSupervisor) -> None:
    script = "import sys\nfor i in range(100): print(f'line {i}')\nprint('boom: port in use')\nsys.exit(3)"
    dying = supervisor.start("dying", [sys.executable, "-c", script])
    wait_until(lambda: not dying.alive(), describe="dying to exit", timeout=20, interval=0.05)
    with pytest.raises(PlatformError) as caught:
        dying.ensure_alive()
    message = str(caught.value)
    assert "exited with code 3" in message
    assert "boom: port in use" in message
    assert "line 99" in message
    assert "line 10\n" not in message  # only the tail
    assert dying.tail(2).splitlines() == ["line 99", "boom: port in use"]
    dying.stop()  # stopping an exited process is harmless


def test_start_of_a_missing_program_is_a_platform_error(
    supervisor: ProcessSupervisor, tmp_path: Path
) -> None:
    with pytest.raises(PlatformError, match="could not start ghost"):
        supervisor.start("ghost", [str(tmp_path / "no-such-program")])


def _python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a helper Python process that uses kconform, bounded in time."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sweep_kills_processes_whose_owner_is_gone_and_spares_live_ones(
    supervisor: ProcessSupervisor, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    stale_run = _run_id()
    orphan_file = tmp_path / "orphan.pid"
    # An intermediate owner starts a marked child in its own session, then exits without cleaning up.
    owner = textwrap.dedent(
        f"""
        import os, subprocess, sys
        env = dict(os.environ, KCONFORM_RUN_ID={stale_run!r}, KCONFORM_OWNER_PID=str(os.getpid()))
        subprocess.Popen(
            [sys.executable, "-c", {BLOCKER!r}, sys.argv[1]],
            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        """
    )
    assert _python(owner, str(orphan_file)).returncode == 0
    orphan = _read_pid(orphan_file)
    live = supervisor.start("live", [sys.executable, "-c", BLOCKER, str(tmp_path / "live.pid")])
    _read_pid(tmp_path / "live.pid")
    # Like a pytest worker under `kconform run`: the run id without an owner is not a managed process.
    bystander = subprocess.Popen(
        [sys.executable, "-c", BLOCKER, str(tmp_path / "bystander.pid")],
        env={**os.environ, "KCONFORM_RUN_ID": stale_run},
        start_new_session=True,
    )

    def end_bystander() -> None:
        bystander.kill()
        bystander.wait(timeout=20)

    request.addfinalizer(end_bystander)
    _read_pid(tmp_path / "bystander.pid")
    assert find_run_processes(stale_run) == [orphan]

    logged: list[str] = []
    swept = sweep_stale(log=logged.append)

    assert orphan in swept
    assert live.pid not in swept
    assert bystander.pid not in swept
    assert any(str(orphan) in line and stale_run in line for line in logged)
    _wait_gone(orphan)
    assert find_run_processes(stale_run) == []
    live.ensure_alive()
    assert bystander.poll() is None


def test_sweep_treats_a_reused_owner_pid_as_gone(tmp_path: Path) -> None:
    run_id = _run_id()
    pid_file = tmp_path / "pid"
    # Our own pid as owner but a start time that is not ours: the owner pid was reused by someone else.
    env = {
        **os.environ,
        "KCONFORM_RUN_ID": run_id,
        "KCONFORM_OWNER_PID": str(os.getpid()),
        "KCONFORM_OWNER_START": "1",
    }
    child = subprocess.Popen([sys.executable, "-c", BLOCKER, str(pid_file)], env=env, start_new_session=True)
    try:
        _read_pid(pid_file)
        assert child.pid in sweep_stale(log=lambda _: None)
        assert child.wait(timeout=20) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=20)


def test_children_die_with_a_sigkilled_owner(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    owner = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from kconform.platforms.local.processes import ProcessSupervisor
        from kconform.waits import wait_until
        sup = ProcessSupervisor("pdeathsig-test", Path(sys.argv[2]))
        sup.start("blocker", [sys.executable, "-c", {BLOCKER!r}, sys.argv[1]])
        wait_until(Path(sys.argv[1]).exists, describe="child ready", timeout=20, interval=0.05)
        os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no teardown: only the kernel can clean up
        """
    )
    result = _python(owner, str(pid_file), str(tmp_path / "logs"))
    assert result.returncode == -signal.SIGKILL, result.stderr
    _wait_gone(_read_pid(pid_file))


def test_atexit_stops_children_gracefully_when_the_owner_forgets(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    owner = textwrap.dedent(
        f"""
        import signal, sys
        from pathlib import Path
        from kconform.platforms.local.processes import ProcessSupervisor
        from kconform.waits import wait_until
        sup = ProcessSupervisor("atexit-test", Path(sys.argv[2]))
        sup.start("blocker", [sys.executable, "-c", {BLOCKER!r}, sys.argv[1], "graceful"])
        wait_until(Path(sys.argv[1]).exists, describe="child ready", timeout=20, interval=0.05)
        """
    )
    result = _python(owner, str(pid_file), str(tmp_path / "logs"))
    assert result.returncode == 0, result.stderr
    # SIGTERM (from the atexit hook) left a note; the parent-death SIGKILL would have left none.
    assert Path(f"{pid_file}.term").read_text() == "graceful\n"


def test_sigterm_to_the_owner_runs_teardown(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    owner_script = textwrap.dedent(
        f"""
        import signal, sys
        from pathlib import Path
        from kconform.platforms.local.processes import ProcessSupervisor, install_signal_handlers
        install_signal_handlers()
        sup = ProcessSupervisor("sigterm-test", Path(sys.argv[2]))
        sup.start("blocker", [sys.executable, "-c", {BLOCKER!r}, sys.argv[1], "teardown"])
        print("ready", flush=True)
        while True:
            signal.pause()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    owner = subprocess.Popen(
        [sys.executable, "-c", owner_script, str(pid_file), str(tmp_path / "logs")],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().strip() == "ready"
        _read_pid(pid_file)
        owner.send_signal(signal.SIGTERM)
        assert owner.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait(timeout=20)
    assert Path(f"{pid_file}.term").read_text() == "teardown\n"


def test_supervisor_leaves_the_registry_once_stopped(tmp_path: Path) -> None:
    sup = ProcessSupervisor(_run_id(), tmp_path)
    assert sup in processes._REGISTRY
    sup.stop_all()
    assert sup not in processes._REGISTRY


# --- ports


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(5)
    assert len(set(ports)) == 5
    assert all(1024 <= port <= 65535 for port in ports)
    assert not port_open("127.0.0.1", free_port())
    with pytest.raises(UsageError):
        free_ports(0)


def test_wait_for_port_sees_a_listening_process(supervisor: ProcessSupervisor) -> None:
    port = free_port()
    server = supervisor.start("http", [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)])
    wait_for_port("127.0.0.1", port, timeout=30, process=server)
    assert port_open("127.0.0.1", port)


def test_wait_for_port_fails_fast_when_the_process_dies(supervisor: ProcessSupervisor) -> None:
    script = "import sys; print('Address already in use', flush=True); sys.exit(1)"
    dying = supervisor.start("broker-0", [sys.executable, "-c", script])
    with pytest.raises(PlatformError, match="Address already in use"):
        wait_for_port("127.0.0.1", free_port(), timeout=60, process=dying)


def test_wait_for_port_times_out_with_a_description() -> None:
    port = free_port()
    with pytest.raises(WaitTimeout, match=f"127.0.0.1:{port} to accept connections"):
        wait_for_port("127.0.0.1", port, timeout=0.3)


def test_a_process_started_from_a_short_lived_thread_outlives_that_thread(
    supervisor: ProcessSupervisor, tmp_path: Path
) -> None:
    """PR_SET_PDEATHSIG follows the forking thread: a cell's clusters start in threads that end once Ready,
    so their processes are forked by the long-lived spawner thread instead."""
    record = tmp_path / "pid"
    started: list[processes.ManagedProcess] = []
    native: list[int] = []

    def start() -> None:
        native.append(threading.get_native_id())
        started.append(
            supervisor.start("from-thread", [sys.executable, "-c", BLOCKER, str(record), "from-thread"])
        )

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    pid = _read_pid(record)
    # Once the OS thread is gone, a death signal tied to it would have been sent.
    wait_until(
        lambda: not Path(f"/proc/self/task/{native[0]}").exists(),
        describe="the starting thread to be gone",
        timeout=20,
        interval=0.05,
    )
    started[0].ensure_alive()
    supervisor.stop_all(timeout=10)
    assert (tmp_path / "pid.term").read_text() == "from-thread\n", "it was killed, not stopped"
    _wait_gone(pid)


# --- fatal log markers: a process that logged its end but did not exit (a Kafka JVM after a failed startup)

_MARKER = "Exiting Kafka due to fatal exception"
# Prints its lines (each in two writes), then blocks: alive until stopped (stdin is /dev/null).
_LOGGER = textwrap.dedent(
    """
    import sys, threading
    for line in sys.argv[1:]:
        half = len(line) // 2
        sys.stdout.write(line[:half]); sys.stdout.flush()
        sys.stdout.write(line[half:] + "\\n"); sys.stdout.flush()
    threading.Event().wait()
    """
)


def _logging_process(
    supervisor: ProcessSupervisor, name: str, lines: list[str], markers: tuple[str, ...]
) -> processes.ManagedProcess:
    proc = supervisor.start(name, [sys.executable, "-c", _LOGGER, *lines], fatal_markers=markers)
    wait_until(
        lambda: lines[-1] in proc.log_path.read_text(), describe=f"{name} to log its lines", timeout=30
    )
    return proc


def test_a_live_process_that_logged_a_fatal_marker_is_not_alive(supervisor: ProcessSupervisor) -> None:
    proc = _logging_process(
        supervisor, "broker-0", ["starting", f"ERROR {_MARKER} during startup.", "done"], (_MARKER,)
    )
    assert proc.alive()
    with pytest.raises(PlatformError, match=f"logged '{_MARKER}' and has not exited"):
        proc.ensure_alive()
    with pytest.raises(PlatformError, match="has not exited"):
        wait_for_port("127.0.0.1", free_port(), timeout=60, process=proc)


def test_without_markers_or_without_the_line_a_live_process_is_alive(supervisor: ProcessSupervisor) -> None:
    quiet = _logging_process(supervisor, "quiet", ["starting", "started"], (_MARKER,))
    unwatched = _logging_process(supervisor, "unwatched", [f"ERROR {_MARKER}", "end"], ())
    quiet.ensure_alive()
    unwatched.ensure_alive()


def test_a_marker_an_earlier_start_logged_does_not_count(supervisor: ProcessSupervisor) -> None:
    """A restarted node appends to its earlier log: only what this start logged counts."""
    earlier = _logging_process(supervisor, "node-1", [f"ERROR {_MARKER}", "end"], ())
    earlier.stop()
    again = _logging_process(supervisor, "node-1", ["starting again", "started"], (_MARKER,))
    assert _MARKER in again.log_path.read_text()
    again.ensure_alive()


def test_a_marker_split_across_two_checks_is_found(supervisor: ProcessSupervisor) -> None:
    proc = _logging_process(supervisor, "broker-2", ["starting"], (_MARKER,))
    half = len(_MARKER) // 2
    with proc.log_path.open("a") as log:
        log.write(f"ERROR {_MARKER[:half]}")
    proc.ensure_alive()  # half a line: not yet
    with proc.log_path.open("a") as log:
        log.write(f"{_MARKER[half:]} during startup.\n")
    with pytest.raises(PlatformError, match="has not exited"):
        proc.ensure_alive()
