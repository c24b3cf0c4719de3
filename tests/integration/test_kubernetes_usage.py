"""Usage errors of a kubernetes run are found before any test runs: one line, exit 2 (issue 8, point 4).

Driven through the real CLI and plain pytest; the kubeconfig is a real file, the API server address one
nobody listens on.
"""

from __future__ import annotations

import socket
import subprocess
import uuid
from pathlib import Path

from tests.support.cli import environment, one_line, run_module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kubeconfig(tmp_path: Path, server: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: here\n  cluster:\n    server: {server}\n    insecure-skip-tls-verify: true\n"
        "users:\n- name: me\n  user:\n    token: not-a-secret\n"
        "contexts:\n- name: here\n  context:\n    cluster: here\n    user: me\n"
        "current-context: here\n"
    )
    return path


def _kconform(tmp_path: Path, *argv: str, kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    return run_module(
        "kconform", *argv, "--reports", str(tmp_path / "reports"), env=environment(KUBECONFIG=str(kubeconfig))
    )


def _existing(context: str) -> tuple[str, ...]:
    """The options, for `kconform run` and plain pytest alike, that select the existing cluster of `context`."""
    return ("--platform", "kubernetes", "--provider", "existing", "--context", context)


def _run_existing(tmp_path: Path, context: str, *, server: str) -> subprocess.CompletedProcess[str]:
    """`kconform run` on the existing cluster of `context`, in a kubeconfig whose one cluster is `server`."""
    return _kconform(tmp_path, "run", *_existing(context), kubeconfig=_kubeconfig(tmp_path, server))


def test_unknown_context_is_one_line_exit_2(tmp_path: Path) -> None:
    context = f"absent-{uuid.uuid4().hex[:6]}"
    done = _run_existing(tmp_path, context, server="https://127.0.0.1:1")
    assert done.returncode == 2
    line = one_line(done)
    assert context in line and "kubectl config get-contexts" in line
    assert not (tmp_path / "reports" / "conformance.json").exists()  # nothing ran


def test_unreachable_api_server_is_one_line_exit_2(tmp_path: Path) -> None:
    done = _run_existing(tmp_path, "here", server=f"https://127.0.0.1:{_free_port()}")
    assert done.returncode == 2
    assert "does not answer" in one_line(done)


def test_without_context_the_kubeconfigs_current_context_is_used(tmp_path: Path) -> None:
    """No --context: the kubeconfig's current context ("here") is the cluster the run goes on to check."""
    kubeconfig = _kubeconfig(tmp_path, f"https://127.0.0.1:{_free_port()}")
    argv = ("run", "--platform", "kubernetes", "--provider", "existing")
    done = _kconform(tmp_path, *argv, kubeconfig=kubeconfig)
    assert done.returncode == 2
    assert "the API server of context 'here' does not answer" in one_line(done)


def test_several_contexts_and_no_current_one_are_one_line_exit_2(tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path, "https://127.0.0.1:1")
    text = kubeconfig.read_text().replace("current-context: here\n", "")
    another = "contexts:\n- name: there\n  context:\n    cluster: here\n    user: me\n"
    kubeconfig.write_text(text.replace("contexts:\n", another))
    done = _kconform(
        tmp_path, "run", "--platform", "kubernetes", "--provider", "existing", kubeconfig=kubeconfig
    )
    assert done.returncode == 2
    line = one_line(done)
    assert "2 contexts (there, here)" in line and "pass --context NAME" in line
    assert not (tmp_path / "reports" / "conformance.json").exists()  # nothing ran


def test_two_workers_on_kubernetes_are_refused(tmp_path: Path) -> None:
    """Point 8: one cluster per run and its NodePorts mapped once; -n 2 is refused, not raced."""
    kubeconfig = _kubeconfig(tmp_path, "https://127.0.0.1:1")
    done = _kconform(tmp_path, "run", "--platform", "kubernetes", "-n", "2", kubeconfig=kubeconfig)
    assert done.returncode == 2 and "drop -n 2" in one_line(done)
    plain = run_module(
        "pytest",
        "scenarios",
        "--platform",
        "kubernetes",
        "-n",
        "2",
        "-q",
        env=environment(KUBECONFIG=str(kubeconfig)),
    )
    assert plain.returncode == 4  # pytest's usage error; `kconform run` maps it to 2
    assert "drop -n 2" in one_line(plain)


def test_plain_pytest_checks_the_context_at_session_start(tmp_path: Path) -> None:
    """The same preflight for plain pytest: one line before any test, pytest's usage error (exit 4)."""
    context = f"absent-{uuid.uuid4().hex[:6]}"
    done = run_module(
        "pytest",
        "scenarios",
        "-p",
        "no:cacheprovider",
        *_existing(context),
        "--reports",
        str(tmp_path / "reports"),
        "-q",
        env=environment(KUBECONFIG=str(_kubeconfig(tmp_path, "https://127.0.0.1:1"))),
    )
    assert done.returncode == 4
    assert context in one_line(done)
