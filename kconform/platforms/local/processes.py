"""Supervise the processes of one run (brokers, controllers, ZooKeeper, the bridge) so none outlives it.

Three layers make sure of that:

1. Normal teardown: `ProcessSupervisor.stop_all()` (or leaving its `with` block) stops every process in
   reverse start order: SIGTERM to its process group, a bounded wait, then SIGKILL to the group.
2. Python exiting: an atexit hook stops every supervisor still registered; `install_signal_handlers()`
   turns SIGTERM into SystemExit so that pytest teardown and the hook run (SIGINT already raises
   KeyboardInterrupt).
3. The test process being SIGKILLed: on Linux each child gets PR_SET_PDEATHSIG=SIGKILL, so the kernel
   kills it when its parent goes. The kernel ties this to the *thread* that forked the child, not the
   process: a child started from a short-lived worker thread dies with that thread. So only the main
   thread forks itself; other threads (a cell's clusters start in threads of their own) hand the fork to
   one spawner thread that lives as long as the process (`_spawn`). Grandchildren
   do not get the signal; `sweep_stale()` finds them (and anything else left) by the KCONFORM_RUN_ID and
   KCONFORM_OWNER_PID environment markers every managed process carries.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from kconform.errors import PlatformError, WaitTimeout
from kconform.waits import wait_until

RUN_ID_VAR = "KCONFORM_RUN_ID"
OWNER_PID_VAR = "KCONFORM_OWNER_PID"
OWNER_START_VAR = "KCONFORM_OWNER_START"  # owner's start time: tells a live owner from a reused pid
_PR_SET_PDEATHSIG = 1
_POLL = 0.05

# Loaded before any fork: the child between fork and exec must not have to load libraries.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


class ManagedProcess:
    """One supervised process: the leader of its own process group, output in `log_path`."""

    def __init__(
        self,
        name: str,
        popen: subprocess.Popen[bytes],
        log_path: Path,
        *,
        fatal_markers: Sequence[str] = (),
        log_offset: int = 0,
    ) -> None:
        self.name = name
        self.pid = popen.pid
        self.log_path = log_path
        self._popen = popen
        self._stopped = False
        # Lines after which the program is as good as dead even if it does not exit (a Kafka JVM can hang
        # after "Exiting Kafka due to fatal exception"); looked for in what it logged since it started.
        self._fatal_markers = [m.encode() for m in fatal_markers]
        self._log_offset = log_offset
        self._log_carry = b""  # the end of the last read, so a marker split across two reads is found
        self._fatal_seen: str | None = None  # once logged, every later check fails too
        self._log_lock = threading.Lock()

    def __repr__(self) -> str:
        state = "alive" if self.alive() else f"exited {self._popen.returncode}"
        return f"ManagedProcess({self.name!r}, pid={self.pid}, {state})"

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    def alive(self) -> bool:
        return self._popen.poll() is None

    def ensure_alive(self) -> None:
        """Raise PlatformError carrying the end of the log if the process has exited, or has logged one of
        its fatal markers."""
        code = self._popen.poll()
        if code is not None:
            raise PlatformError(
                f"{self.name} (pid {self.pid}) exited with code {code}; "
                f"last lines of {self.log_path}:\n{self.tail()}"
            )
        marker = self._fatal_marker_logged()
        if marker is not None:
            raise PlatformError(
                f"{self.name} (pid {self.pid}) logged {marker!r} and has not exited; "
                f"last lines of {self.log_path}:\n{self.tail()}"
            )

    def _fatal_marker_logged(self) -> str | None:
        if not self._fatal_markers:
            return None
        with self._log_lock:
            if self._fatal_seen is not None:
                return self._fatal_seen
            try:
                with self.log_path.open("rb") as handle:
                    handle.seek(self._log_offset)
                    new = handle.read()
            except FileNotFoundError:
                return None
            self._log_offset += len(new)
            window = self._log_carry + new
            self._log_carry = window[-max(len(m) for m in self._fatal_markers) :]
            for marker in self._fatal_markers:
                if marker in window:
                    self._fatal_seen = marker.decode()
            return self._fatal_seen

    def tail(self, lines: int = 50) -> str:
        return tail_file(self.log_path, lines)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the group, wait up to `timeout`, then SIGKILL the group. Safe to call again."""
        if self._stopped:
            return
        if self._popen.poll() is not None and not group_members(self.pid):
            self._stopped = True  # exited on its own; signalling a reaped pid could hit a stranger
            return
        _signal_group(self.pid, signal.SIGTERM)
        try:
            self._wait_group_gone(timeout, "to stop after SIGTERM")
        except WaitTimeout:
            _signal_group(self.pid, signal.SIGKILL)
            self._wait_group_gone(10, "to die after SIGKILL")
        self._stopped = True

    def _wait_group_gone(self, timeout: float, what: str) -> None:
        # The leader must be reaped (poll) and every other member of its group gone or a zombie.
        wait_until(
            lambda: self._popen.poll() is not None and not group_members(self.pid),
            describe=f"{self.name} (pid {self.pid}) and its process group {what}",
            timeout=timeout,
            interval=_POLL,
            diagnose=lambda: f"still in the group: {group_members(self.pid)}",
        )


class ProcessSupervisor:
    """Owns every process of one run; stops them all on exit, however the run ends."""

    def __init__(self, run_id: str, log_dir: Path) -> None:
        self.run_id = run_id
        self.log_dir = log_dir
        self.processes: list[ManagedProcess] = []
        self._lock = threading.Lock()
        with _REGISTRY_LOCK:
            _REGISTRY.append(self)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        fatal_markers: Sequence[str] = (),
    ) -> ManagedProcess:
        """Start `argv` in its own session; stdout and stderr go to `<log_dir>/<name>.log` (appended to).
        `fatal_markers`: log lines that make `ensure_alive` fail although the process still runs."""
        if not argv:
            raise PlatformError(f"no command given to start {name}")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        child_env = dict(os.environ if env is None else env)
        child_env.update(owner_markers(self.run_id))
        with log_path.open("ab") as log:
            log_offset = log.tell()  # a restarted node appends to its earlier log: only what follows counts
            try:
                popen = _spawn(
                    lambda: subprocess.Popen(
                        list(argv),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        env=child_env,
                        cwd=cwd,
                        start_new_session=True,
                        preexec_fn=_die_with_parent(os.getpid()) if _LIBC is not None else None,
                    )
                )
            except OSError as err:
                raise PlatformError(f"could not start {name} ({argv[0]}): {err}") from err
        process = ManagedProcess(name, popen, log_path, fatal_markers=fatal_markers, log_offset=log_offset)
        with self._lock:
            self.processes.append(process)
        return process

    def stop_all(self, timeout: float = 15) -> None:
        """Stop every process, newest first; keep going past failures and report them together."""
        with self._lock:
            processes = list(reversed(self.processes))
        failures: list[str] = []
        for process in processes:
            try:
                process.stop(timeout)
            except Exception as err:  # one stubborn process must not leave the others running
                failures.append(f"{process.name}: {err}")
        with _REGISTRY_LOCK, contextlib.suppress(ValueError):
            _REGISTRY.remove(self)
        if failures:
            raise PlatformError("could not stop every process:\n" + "\n".join(failures))

    def __enter__(self) -> ProcessSupervisor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()


_REGISTRY: list[ProcessSupervisor] = []
_REGISTRY_LOCK = threading.Lock()
_SPAWN_QUEUE: queue.SimpleQueue[tuple[Callable[[], subprocess.Popen[bytes]], Future[Any]]] = (
    queue.SimpleQueue()
)
_SPAWNER_LOCK = threading.Lock()
_spawner: threading.Thread | None = None


def _spawn(fork: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """Run `fork` where the child's PR_SET_PDEATHSIG outlives the caller: in the main thread itself, else
    in the spawner thread (one fork at a time, which preexec_fn also wants)."""
    global _spawner
    if threading.current_thread() is threading.main_thread():
        return fork()
    with _SPAWNER_LOCK:
        if _spawner is None or not _spawner.is_alive():
            _spawner = threading.Thread(target=_spawner_loop, name="kconform-spawner", daemon=True)
            _spawner.start()
    done: Future[subprocess.Popen[bytes]] = Future()
    _SPAWN_QUEUE.put((fork, done))
    return done.result()


def _spawner_loop() -> None:
    while True:
        fork, done = _SPAWN_QUEUE.get()
        try:
            done.set_result(fork())
        except BaseException as err:  # handed to the caller, who raises it
            done.set_exception(err)


def stop_everything(timeout: float = 15) -> None:
    """Stop the processes of every live supervisor (atexit, signal handlers, emergency teardown)."""
    with _REGISTRY_LOCK:
        supervisors = list(reversed(_REGISTRY))
    for supervisor in supervisors:
        with contextlib.suppress(Exception):  # at exit there is nobody left to report to
            supervisor.stop_all(timeout)


atexit.register(stop_everything)


def install_signal_handlers() -> None:
    """Make SIGTERM raise SystemExit, so teardown code and the atexit hook run. Main thread only."""

    def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit_on_sigterm)


def owner_markers(run_id: str) -> dict[str, str]:
    """The environment entries that tie a process to this run and to this (owner) process."""
    markers = {RUN_ID_VAR: run_id, OWNER_PID_VAR: str(os.getpid())}
    start = _start_time(os.getpid())
    if start is not None:
        markers[OWNER_START_VAR] = start
    return markers


def find_run_processes(run_id: str) -> list[int]:
    """Pids of live (non-zombie) processes marked with this run id."""
    return sorted(pid for pid, env in _marked_processes() if env.get(RUN_ID_VAR) == run_id)


def sweep_stale(log: Callable[[str], object] = print) -> list[int]:
    """Kill the process groups of marked processes whose owner is gone; return the pids found."""
    own_group = os.getpgrp()
    ancestors = _ancestors()
    stale: list[int] = []
    for pid, env in _marked_processes():
        if pid in ancestors or _owner_alive(env):
            continue
        stale.append(pid)
        log(f"killing stale process {pid} of run {env.get(RUN_ID_VAR)} (owner {env.get(OWNER_PID_VAR)} gone)")
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            continue
        # Never our own group: a process marked by a dead owner may still share it if started by hand.
        target = group if group != own_group else None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if target is not None:
                os.killpg(target, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
    return sorted(stale)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) pids whose process group is `pgid`."""
    members = []
    for pid in _pids():
        stat = _stat_fields(pid)
        if stat is not None and stat[0] != "Z" and int(stat[2]) == pgid:
            members.append(pid)
    return members


def tail_file(path: Path, lines: int = 50) -> str:
    """The last `lines` lines of a text file, or a note that it does not exist yet."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 256 * 1024))  # enough for any sane tail, bounded for huge logs
            data = handle.read()
    except FileNotFoundError:
        return f"({path} does not exist)"
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:]) if lines > 0 else ""


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group is already gone
        os.killpg(pgid, signum)


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    def preexec() -> None:
        assert _LIBC is not None
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # If the parent died before prctl took effect, the signal will never come: leave now.
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec


def _pids() -> list[int]:
    try:
        return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except FileNotFoundError:  # no procfs (not Linux): nothing can be found by scanning
        return []


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, ..."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()  # the name may contain spaces and parentheses


def _start_time(pid: int) -> str | None:
    stat = _stat_fields(pid)
    return stat[19] if stat is not None and len(stat) > 19 else None  # field 22 of stat


def _environ(pid: int) -> dict[str, str] | None:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or another user's process
        return None
    env = {}
    for entry in raw.split(b"\0"):
        key, sep, value = entry.partition(b"=")
        if sep:
            env[key.decode(errors="replace")] = value.decode(errors="replace")
    return env


def _marked_processes() -> list[tuple[int, dict[str, str]]]:
    found = []
    for pid in _pids():
        if pid == os.getpid():
            continue
        env = _environ(pid)
        # Both markers: KCONFORM_RUN_ID alone is also set on pytest (and its xdist workers) by
        # `kconform run` and the plugin; only processes a supervisor started carry the owner pid.
        if not env or RUN_ID_VAR not in env or OWNER_PID_VAR not in env:
            continue
        stat = _stat_fields(pid)
        if stat is None or stat[0] == "Z":
            continue
        found.append((pid, env))
    return found


def _ancestors() -> set[int]:
    """Our parent, its parent, and so on: never to be swept, whatever their environment says."""
    found: set[int] = set()
    pid = os.getppid()
    while pid > 1 and pid not in found:
        found.add(pid)
        stat = _stat_fields(pid)
        if stat is None:
            break
        pid = int(stat[1])
    return found


def _owner_alive(env: Mapping[str, str]) -> bool:
    try:
        owner = int(env.get(OWNER_PID_VAR, ""))
    except ValueError:
        return False  # a marker without a usable owner is stale by definition
    stat = _stat_fields(owner)
    if stat is None or stat[0] == "Z":
        return False
    expected_start = env.get(OWNER_START_VAR)
    return expected_start is None or _start_time(owner) == expected_start
