"""`kconform plan` shows the kraft-migration workflow: its resources (validated against the 0.45.2 CRDs by
the plan command), each annotation as a server-side apply of kconform's field manager, each state waited for;
and only for the cell that has a ZooKeeper cluster to migrate."""

from __future__ import annotations

import pytest

from kconform import kraft_migration as km
from kconform.platforms.kubernetes import metadata_state
from kconform.platforms.kubernetes.kube import FIELD_MANAGER
from tests.unit.platforms.kubernetes.test_kube_plan import steps


def _migration_steps(capsys: pytest.CaptureFixture[str], mode: str) -> list[dict]:
    found = steps(capsys, "--profile", "0.45.2", "--mode", mode)
    return [s for s in found if s["describe"].startswith("[kraft-migration]")]


def test_the_zookeeper_cell_plans_the_migration_and_the_rollback(capsys: pytest.CaptureFixture[str]) -> None:
    planned = _migration_steps(capsys, "zookeeper")
    annotations = [
        s["manifest"]["metadata"]["annotations"][km.ANNOTATION]
        for s in planned
        if s.get("manifest", {}).get("kind") == "Kafka" and "annotate" in s["describe"]
    ]
    assert annotations == [
        km.MIGRATION,
        km.ENABLED,
        km.ROLLBACK,
        km.ROLLBACK,
        km.DISABLED,
    ]
    waits = [
        s["describe"].split("is ", 1)[1].split(" ")[0]
        for s in planned
        if "kafkaMetadataState" in s["describe"]
    ]
    assert waits == [
        km.ZOOKEEPER,
        km.KRAFT_MIGRATION,
        km.KRAFT_DUAL_WRITING,
        km.KRAFT_POST_MIGRATION,
        km.PRE_KRAFT,
        km.KRAFT,
        km.KRAFT,
        km.KRAFT_DUAL_WRITING,
        km.ZOOKEEPER,
    ]
    for step in planned:
        if "manifest" in step:
            assert f"server-side apply, field manager {FIELD_MANAGER}" in step["notes"]
    pool = next(
        s["manifest"]
        for s in planned
        if s.get("manifest", {}).get("metadata", {}).get("name") == "controller"
    )
    assert pool["spec"]["roles"] == ["controller"]
    assert pool["spec"]["storage"]["volumes"][0]["type"] == "persistent-claim"
    assert any("persistent-claim" in note for s in planned for note in s.get("notes", []))
    last_kafka = [s["manifest"] for s in planned if s.get("manifest", {}).get("kind") == "Kafka"]
    assert any("zookeeper" not in k["spec"] for k in last_kafka)


@pytest.mark.parametrize(("profile", "mode"), [("0.45.2", "kraft"), ("1.2.0", "kraft")])
def test_other_cells_do_not_plan_it(capsys: pytest.CaptureFixture[str], profile: str, mode: str) -> None:
    found = steps(capsys, "--profile", profile, "--mode", mode)
    assert not [s for s in found if s["describe"].startswith("[kraft-migration]")]


def test_roles_come_from_process_roles_in_the_node_configuration() -> None:
    """Strimzi's per-node ConfigMap `server.config` (KafkaCluster.java:187): no process.roles = ZooKeeper broker."""
    assert metadata_state.roles_in("node.id=3\nprocess.roles=controller\n") == ["controller"]
    assert metadata_state.roles_in("broker.id=0\nzookeeper.connect=x:2181\n") == [metadata_state.NO_ROLES]


def test_every_pool_of_the_migration_keeps_its_log_across_a_roll(capsys: pytest.CaptureFixture[str]) -> None:
    """Ephemeral storage is an emptyDir and Strimzi rolls a node by deleting its pod (KafkaRoller): a single
    ephemeral broker would begin every roll of the migration with an empty log. Both pools claim volumes,
    deleted with the pool (deleteClaim), as MigrationST's persistent pools at 0.45.2 do."""
    pools = [
        s["manifest"]
        for s in _migration_steps(capsys, "zookeeper")
        if s.get("manifest", {}).get("kind") == "KafkaNodePool"
    ]
    assert {p["metadata"]["name"] for p in pools} == {"kafka", "controller"}
    for pool in pools:
        (volume,) = pool["spec"]["storage"]["volumes"]
        assert (volume["type"], volume["deleteClaim"]) == ("persistent-claim", True), pool["metadata"]["name"]
