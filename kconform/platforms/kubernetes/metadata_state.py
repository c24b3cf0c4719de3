"""What the `kraft-migration` workflow reads of a real cluster: status.kafkaMetadataState as the operator moves
it, each node's roles from its per-node configuration, and znodes in the ZooKeeper pod.

Shapes from Strimzi 0.45.2: one ConfigMap per Kafka pod, named after the pod, with the node's configuration
under `server.config` and its configuration state ordinal under `metadata.state` (KafkaCluster.java:187, :207,
:1906); node-pool pods carry `strimzi.io/pool-name` (Labels.java:53); the ZooKeeper container is `zookeeper`
(ZookeeperCluster.java:95) and its shell reaches the server on localhost:12181 (MigrationST.java:838).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from kconform import kraft_migration as km
from kconform import progress
from kconform.errors import PlatformError
from kconform.resources import CLUSTER_LABEL
from kconform.waits import wait_until

SERVER_CONFIG_KEY = "server.config"
METADATA_STATE_KEY = "metadata.state"
POOL_NAME_LABEL = "strimzi.io/pool-name"
ZOOKEEPER_CONTAINER = "zookeeper"
ZOOKEEPER_LOCAL_ADDRESS = "localhost:12181"
NO_ROLES = "zookeeper-broker"  # a broker still in ZooKeeper mode has no process.roles
POLL_S = 2.0
MIN_EXEC_S = 5.0  # the shortest exec worth starting: a JVM (zookeeper-shell) answers in seconds
now = time.monotonic  # the clock of deadlines here


class _Kube(Protocol):
    def pods(self, namespace: str, label_selector: str | None = None) -> list[dict[str, Any]]: ...

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None: ...

    def exec(
        self, namespace: str, pod: str, container: str, argv: list[str], stdin: str, timeout: float
    ) -> str: ...


def wait_for_state(
    get: Callable[[], dict[str, Any] | None],
    where: str,
    state: str,
    timeout: float,
    reason: str | None = None,
) -> dict[str, Any]:
    """Poll the Kafka until status.kafkaMetadataState is `state`, reporting each change of state or latest
    condition. A NotReady on the way is shown, not final: the operator retries a failed reconciliation."""
    last: dict[str, Any] | None = None
    shown: str | None = None

    def check() -> dict[str, Any] | None:
        nonlocal last, shown
        last = get()
        now = km.summary(last)
        if now != shown:
            shown = now
            progress.report(f"waiting for Kafka {where} to reach {state}: {now}")
        return last if km.reached(last, state, reason) else None

    return wait_until(
        check,
        describe=f"Kafka {where} status.kafkaMetadataState to be {state}"
        + (f" with a {reason} condition" if reason else ""),
        timeout=timeout,
        interval=POLL_S,
        diagnose=lambda: km.summary(last),
    )


def roles_in(server_config: str) -> list[str]:
    for line in server_config.splitlines():
        if line.startswith("process.roles="):
            return [role.strip() for role in line.split("=", 1)[1].split(",") if role.strip()]
    return [NO_ROLES]


def node_roles(kube: _Kube, namespace: str, cluster: str) -> dict[str, list[str]]:
    """Pod name -> the roles its current configuration gives it."""
    found: dict[str, list[str]] = {}
    for pod in kube.pods(namespace, f"{CLUSTER_LABEL}={cluster},{POOL_NAME_LABEL}"):
        name = pod["metadata"]["name"]
        config_map = kube.get("v1", "ConfigMap", namespace, name) or {}
        found[name] = roles_in(str((config_map.get("data") or {}).get(SERVER_CONFIG_KEY, "")))
    return found


ZOOKEEPER_CONNECTION_LOSS = "KeeperErrorCode = ConnectionLoss"  # zookeeper-shell's words for no server


def zookeeper_children(
    kube: _Kube, namespace: str, cluster: str, path: str, timeout: float = 60
) -> list[str]:
    """`zookeeper-shell.sh ls <path>` in the first ZooKeeper pod. A ZooKeeper that does not answer for a
    moment (ConnectionLoss: its pod restarting, seen on a busy real node) is asked again within `timeout`."""
    pod = f"{cluster}-zookeeper-0"
    argv = ["./bin/zookeeper-shell.sh", ZOOKEEPER_LOCAL_ADDRESS, "ls", path]
    deadline = now() + timeout

    def listing() -> list[str] | None:
        # Each exec gets what is left of the bound, so a retry late in it cannot double the whole wait.
        left = max(MIN_EXEC_S, deadline - now())
        try:
            output = kube.exec(namespace, pod, ZOOKEEPER_CONTAINER, argv, "", left)
        except PlatformError as err:
            if ZOOKEEPER_CONNECTION_LOSS in str(err):
                return None
            raise
        try:
            return km.parse_listing(output, path)
        except ValueError as err:
            raise PlatformError(str(err)) from err

    return wait_until(
        listing, describe=f"ZooKeeper in {namespace}/{pod} to list {path}", timeout=timeout, interval=POLL_S
    )
