"""The ACL-change scenario compares the Kafka's conditions before and after without `lastTransitionTime`."""

from __future__ import annotations

import inspect

from kconform_fixtures.cluster import stable_conditions
from kconform_scenarios import test_user_acls


def kafka(*conditions: dict[str, str]) -> dict[str, object]:
    return {"kind": "Kafka", "status": {"observedGeneration": 1, "conditions": list(conditions)}}


READY = {"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-02T10:00:00.000Z"}
WARNING = {"type": "Warning", "status": "True", "reason": "KafkaStorage", "message": "ephemeral"}


def test_a_new_stamp_on_the_same_conditions_is_the_same() -> None:
    restamped = {**READY, "lastTransitionTime": "2026-12-02T10:02:00.000Z"}
    assert stable_conditions(kafka(READY, WARNING)) == stable_conditions(kafka(WARNING, restamped))


def test_a_changed_condition_is_not_the_same() -> None:
    not_ready = {"type": "NotReady", "status": "True", "reason": "TimeoutException"}
    assert stable_conditions(kafka(READY)) != stable_conditions(kafka(not_ready))
    assert stable_conditions(kafka(READY)) != stable_conditions(kafka(READY, WARNING))
    assert stable_conditions(None) == []


def test_the_acl_change_scenario_compares_stable_conditions() -> None:
    source = inspect.getsource(test_user_acls.test_changing_acls_takes_effect_without_restart)
    assert "stable_conditions(after) == stable_conditions(before)" in source
    assert '["status"]["conditions"] ==' not in source
