"""The README says which NotReady stops a wait; the readiness code is what decides it. They must agree."""

from __future__ import annotations

import re

import pytest

from kconform import paths
from kconform import strimzi_contract as contract
from kconform.errors import ResourceFailed
from kconform.platforms.kubernetes import readiness


def kafka_with(reason: str) -> dict[str, object]:
    condition = {"type": "NotReady", "status": "True", "reason": reason, "message": f"{reason} happened"}
    return {
        "kind": "Kafka",
        "metadata": {"name": "k", "namespace": "ns", "generation": 1},
        "status": {"observedGeneration": 1, "conditions": [condition]},
    }


def readme_sentence() -> str:
    text = " ".join(paths.PROJECT_ROOT.joinpath("README.md").read_text().split())
    found = re.search(r"\(a `NotReady` condition[^)]*\)[^)]*\)", text)
    assert found, "the README no longer says what a NotReady does to a wait"
    return found.group(0)


def test_the_readme_says_only_final_reasons_stop_a_wait() -> None:
    sentence = readme_sentence()
    assert "no retry can fix" in sentence and "the wait goes on" in sentence
    named = re.findall(r"`(\w+Exception)`", sentence)
    assert named and set(named) <= contract.FINAL_REASONS  # the example it gives is one the code stops on


def test_a_final_reason_stops_the_wait_and_any_other_keeps_it_going() -> None:
    (example,) = re.findall(r"`(\w+Exception)`", readme_sentence())
    with pytest.raises(ResourceFailed, match=f"{example} happened"):
        readiness.check(kafka_with(example))
    retried = kafka_with(
        "TimeoutException"
    )  # e.g. images still pulling: the operator's next reconcile retries
    assert readiness.check(retried) is None
    assert "the operator retries" in readiness.summary(retried)
