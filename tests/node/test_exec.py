"""kconform's exec (Kube.exec, what the client pod's every request rides on) against a real kubelet and
containerd: stdin of any size and any text arrives intact, and what goes wrong comes back as a kconform error."""

from __future__ import annotations

import hashlib
import threading

import pytest

from kconform.errors import KconformError, PlatformError
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.waits import wait_until
from tests.node import workloads

pytestmark = pytest.mark.node
CONTAINER = "main"
# Reads exactly argv[1] bytes of stdin (an exec stream may never deliver EOF: the client pod's framing).
READ_EXACTLY = (
    "import sys,hashlib\n"
    "n=int(sys.argv[1]); data=b''\n"
    "while len(data)<n:\n"
    "    chunk=sys.stdin.buffer.read(n-len(data))\n"
    "    if not chunk: break\n"
    "    data+=chunk\n"
)


@pytest.fixture(scope="module")
def pod(platform: KubernetesPlatform, namespace: str) -> str:
    name = workloads.unique("exec")
    workloads.start_pods(platform, [workloads.sleeper_pod(name, namespace)])
    return name


def _exec(
    platform: KubernetesPlatform,
    namespace: str,
    pod: str,
    argv: list[str],
    stdin: str = "",
    timeout: float = 60,
) -> str:
    return platform.kube.exec(namespace, pod, CONTAINER, argv, stdin, timeout)


def test_two_mebibytes_of_stdin_arrive_intact(platform: KubernetesPlatform, namespace: str, pod: str) -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(2 * 1024 * 1024))
    script = READ_EXACTLY + "print(len(data), hashlib.sha256(data).hexdigest())\n"
    out = _exec(platform, namespace, pod, ["python3", "-c", script, str(len(text))], text, timeout=120)
    assert out.split() == [str(len(text)), hashlib.sha256(text.encode()).hexdigest()]


def test_non_ascii_stdin_and_stdout_round_trip(
    platform: KubernetesPlatform, namespace: str, pod: str
) -> None:
    text = "Grüße aus Köln — 東京 — Ελληνικά — 🚀🦀\nzweite Zeile\n"
    size = len(text.encode("utf-8"))
    script = READ_EXACTLY + "sys.stdout.buffer.write(data); sys.stdout.flush()\n"
    out = _exec(platform, namespace, pod, ["python3", "-c", script, str(size)], text)
    assert out == text


def test_a_non_zero_exit_is_a_platform_error_with_the_stderr(
    platform: KubernetesPlatform, namespace: str, pod: str
) -> None:
    with pytest.raises(PlatformError, match=r"exited 7.*went wrong on purpose"):
        _exec(platform, namespace, pod, ["sh", "-c", "echo went wrong on purpose >&2; exit 7"])


def test_a_missing_command_is_a_kconform_error(
    platform: KubernetesPlatform, namespace: str, pod: str
) -> None:
    with pytest.raises(KconformError):
        _exec(platform, namespace, pod, ["no-such-command-here"])


def test_a_timed_out_exec_is_a_kconform_error_that_says_so(
    platform: KubernetesPlatform, namespace: str, pod: str
) -> None:
    with pytest.raises(KconformError, match=r"(?i)time"):
        _exec(platform, namespace, pod, ["sleep", "30"], timeout=3)


def test_a_connection_dropped_mid_exec_is_a_kconform_error(
    platform: KubernetesPlatform, namespace: str
) -> None:
    """The pod the exec runs in is deleted while the command runs: the stream ends without an exit status."""
    doomed = workloads.unique("doomed")
    workloads.start_pods(platform, [workloads.sleeper_pod(doomed, namespace)])

    def delete_once_running() -> None:
        wait_until(
            lambda: (
                _exec(
                    platform, namespace, doomed, ["sh", "-c", "test -f /tmp/started && echo yes || echo no"]
                ).strip()
                == "yes"
            ),
            describe=f"the long exec in {doomed} to have started",
            timeout=60,
            interval=0.5,
        )
        platform.kube.delete("v1", "Pod", namespace, doomed)

    deleter = threading.Thread(target=delete_once_running, daemon=True)
    deleter.start()
    try:
        with pytest.raises(KconformError):
            _exec(platform, namespace, doomed, ["sh", "-c", "touch /tmp/started; sleep 90"], timeout=75)
    finally:
        deleter.join(90)
