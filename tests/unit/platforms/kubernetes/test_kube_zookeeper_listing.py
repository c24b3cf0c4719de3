"""Listing a ZooKeeper path through `zookeeper-shell.sh` in the ZooKeeper pod: a ZooKeeper that does not answer
for a moment (its pod restarting: the shell's ConnectionLoss, seen on a real node) is asked again, bounded;
any other failure is not."""

from __future__ import annotations

from typing import Any

import pytest

from kconform.errors import PlatformError, WaitTimeout
from kconform.platforms.kubernetes import metadata_state

LOST = "exited 1: java.net.ConnectException: Connection refused\nKeeperErrorCode = ConnectionLoss for /brokers/topics"
LISTING = "Connecting to localhost:12181\n\nWATCHER::\n\nWatchedEvent state:SyncConnected\n[orders, back]\n"


class ZooKeeperPod:
    """A double of the API server's exec into the ZooKeeper pod: answers in the order given."""

    def __init__(self, *answers: str | PlatformError) -> None:
        self.answers, self.calls = list(answers), 0
        self.timeouts: list[float] = []

    def exec(
        self, namespace: str, pod: str, container: str, argv: list[str], stdin: str, timeout: float
    ) -> Any:
        self.calls += 1
        self.timeouts.append(timeout)
        answer = self.answers.pop(0)
        if isinstance(answer, PlatformError):
            raise answer
        return answer


def test_a_zookeeper_restarting_is_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metadata_state, "POLL_S", 0.01)
    pod = ZooKeeperPod(PlatformError(LOST), PlatformError(LOST), LISTING)
    assert metadata_state.zookeeper_children(pod, "ns", "c", "/brokers/topics") == ["orders", "back"]
    assert pod.calls == 3


def test_other_failures_are_not_retried() -> None:
    pod = ZooKeeperPod(PlatformError("exec: the connection dropped"), LISTING)
    with pytest.raises(PlatformError, match="connection dropped"):
        metadata_state.zookeeper_children(pod, "ns", "c", "/brokers/topics")
    assert pod.calls == 1


def test_a_zookeeper_that_never_answers_ends_within_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metadata_state, "POLL_S", 0.01)
    pod = ZooKeeperPod(*[PlatformError(LOST)] * 1000)
    with pytest.raises(WaitTimeout, match="to list /brokers/topics"):
        metadata_state.zookeeper_children(pod, "ns", "c", "/brokers/topics", timeout=0.1)


def test_each_exec_gets_what_is_left_of_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A retry late in the wait may not take a whole `timeout` of its own (the wait would end near 2x)."""
    clock = iter([100.0, 100.0, 150.0, 158.0])  # the start, then each exec's start
    monkeypatch.setattr(metadata_state, "now", lambda: next(clock))
    monkeypatch.setattr(metadata_state, "wait_until", _each_attempt)
    pod = ZooKeeperPod(PlatformError(LOST), PlatformError(LOST), LISTING)
    assert metadata_state.zookeeper_children(pod, "ns", "c", "/brokers/topics", timeout=60) == [
        "orders",
        "back",
    ]
    assert pod.timeouts == [60.0, 10.0, metadata_state.MIN_EXEC_S]


def _each_attempt(attempt: Any, **_: Any) -> Any:
    """wait_until without its clock: attempts until one answers (the test's clock is the deadline's)."""
    while (found := attempt()) is None:
        pass
    return found
