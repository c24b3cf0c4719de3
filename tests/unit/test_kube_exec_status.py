"""The Status an exec stream ends with (its error channel), as kconform reads it, in the shape the kubelet sends
(a metav1.Status with reason NonZeroExitCode and a cause of type ExitCode, serialised as "reason": see
k8s.io/kubelet pkg/cri/streaming/remotecommand/exec.go and k8s.io/apimachinery pkg/util/remotecommand/
constants.go at v0.35.4). tests/node/test_exec.py proves it on a real kubelet."""

from __future__ import annotations

import json

from kconform.platforms.kubernetes.kube import _exec_status, _exit_code

SUCCESS = {"metadata": {}, "status": "Success"}
EXIT_7 = {
    "metadata": {},
    "status": "Failure",
    "message": "command terminated with non-zero exit code: error executing command [sh -c exit 7]",
    "reason": "NonZeroExitCode",
    "details": {"causes": [{"reason": "ExitCode", "message": "7"}]},
}


def test_a_success_status_is_read() -> None:
    assert _exec_status(json.dumps(SUCCESS)) == SUCCESS


def test_a_stream_that_sent_no_status_reads_as_none() -> None:
    assert _exec_status("") is None
    assert _exec_status("  \n") is None
    assert _exec_status("not json") is None
    assert _exec_status("[1, 2]") is None


def test_the_exit_code_comes_from_the_exit_code_cause() -> None:
    assert _exit_code(EXIT_7) == 7


def test_a_failure_without_an_exit_code_cause_has_no_code() -> None:
    internal = {"status": "Failure", "message": "exec: not found", "reason": "InternalError", "details": {}}
    assert _exit_code(internal) is None
    assert (
        _exit_code({"status": "Failure", "details": {"causes": [{"reason": "ExitCode", "message": "x"}]}})
        is None
    )
