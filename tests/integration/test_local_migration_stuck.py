"""A broken migration step is caught on the local platform with real Kafka and ZooKeeper: KRaft controllers
that cannot reach ZooKeeper never let Kafka's ZkMigrationState reach MIGRATION, the state stays where the
operator's rules leave it, and the wait ends at its bound with a WaitTimeout naming that state and the last
condition written.

The fault is injected by giving the controllers (only them) a ZooKeeper address nobody listens on; every
process, the metadata-state rules and the ZkMigrationState read are the real ones.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kconform import kraft_migration as km
from kconform import migration_resources as mr
from kconform import resources
from kconform.errors import WaitTimeout
from kconform.platforms.local import migration_config
from kconform.platforms.local.local_platform import LocalPlatform
from kconform.platforms.local.ports import free_ports
from kconform.platforms.local.processes import find_run_processes
from kconform.versions import PROFILES

pytestmark = pytest.mark.integration
PROFILE = PROFILES["0.45.2"]
BOUND = 75.0  # the wait's own bound in this test: long enough for the controller to fail, short for CI


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[LocalPlatform]:
    run_id = f"stuck-{uuid.uuid4().hex[:6]}"
    local = LocalPlatform(PROFILE, run_id=run_id, log_dir=tmp_path / "logs")
    try:
        yield local
    finally:
        local.close()
        assert find_run_processes(run_id) == []


def test_controllers_that_cannot_reach_zookeeper_end_in_a_timeout_naming_the_state(
    platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    (nobody,) = free_ports(1)
    real = migration_config.node_properties

    def unreachable_zookeeper_for_controllers(*args: Any, **kwargs: Any) -> dict[str, str]:
        props = real(*args, **kwargs)
        if (
            "process.roles" in props
            and "controller" in props["process.roles"]
            and "zookeeper.connect" in props
        ):
            props["zookeeper.connect"] = f"127.0.0.1:{nobody}"
            props["zookeeper.connection.timeout.ms"] = "5000"
        return props

    monkeypatch.setattr(migration_config, "node_properties", unreachable_zookeeper_for_controllers)
    namespace, name = "stuck", "stuck"
    documents = mr.zookeeper_cluster_on_pools(
        PROFILE,
        name=name,
        namespace=namespace,
        run_id=platform.run_id,
        listeners=[resources.internal_listener("tls", 9093, tls=True, authentication="tls")],
        super_users=["CN=admin"],
    )
    platform.create_namespace(namespace)
    for document in reversed(documents):
        platform.apply(document)
    platform.wait_ready("Kafka", namespace, name, 300)
    platform.apply(mr.controller_pool(PROFILE, cluster=name, namespace=namespace, run_id=platform.run_id))
    platform.apply(mr.annotated(documents[0], km.MIGRATION))

    started = time.monotonic()
    with pytest.raises(WaitTimeout) as timed_out:
        platform.wait_metadata_state(namespace, name, km.KRAFT_DUAL_WRITING, BOUND)
    elapsed = time.monotonic() - started

    assert elapsed < BOUND + 30, f"the wait overran its bound of {BOUND:.0f}s: {elapsed:.0f}s"
    message = str(timed_out.value)
    assert f"to be {km.KRAFT_DUAL_WRITING}" in message
    # The controllers fail before the metadata migration can finish: the state stays ZooKeeper (they never
    # came up) or KRaftMigration (they came up, then ZkMigrationState never reached MIGRATION).
    kafka = platform.get("Kafka", namespace, name) or {}
    state = kafka["status"]["kafkaMetadataState"]
    assert state in (km.ZOOKEEPER, km.KRAFT_MIGRATION)
    latest = kafka["status"]["conditions"][-1]
    assert latest["type"] == "NotReady"
    assert f"metadata state {state}; latest condition: NotReady True {latest['reason']}" in message
    assert " ".join(latest["message"].split())[:80] in message  # and the condition's own words
