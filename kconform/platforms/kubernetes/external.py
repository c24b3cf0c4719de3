"""External access through fixed NodePorts: where the test host reaches them, and the listener overrides.

Brokers must advertise an address the test host can reach; on kind that is 127.0.0.1 at the mapped port, so
each broker's nodePort, advertisedHost and advertisedPort are pinned together. On an existing cluster the
address is the one the user names (--external-host), else a node's address by Strimzi's own rule
(strimzi_contract.find_address): node ports answer on every node (externalTrafficPolicy Cluster).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kconform import resources
from kconform import strimzi_contract as contract
from kconform.errors import UsageError
from kconform.kind_readiness import is_ready


def nodeport_listener(
    name: str,
    port: int,
    tls: bool,
    authentication: str | None,
    *,
    host: str,
    node_ports: Sequence[int],
    broker_ids: Sequence[int] = (resources.FIRST_BROKER_ID,),
) -> dict[str, Any]:
    """A nodeport listener whose bootstrap is node_ports[0] and broker i advertises host:node_ports[i+1]."""
    if len(node_ports) < len(broker_ids) + 1:
        raise UsageError(
            f"listener {name!r} needs {len(broker_ids) + 1} fixed node ports; "
            f"only {len(node_ports)} are mapped"
        )
    overrides = [
        resources.BrokerOverride(broker=broker, node_port=p, advertised_host=host, advertised_port=p)
        for broker, p in zip(broker_ids, node_ports[1:], strict=False)
    ]
    return resources.nodeport_listener(
        name,
        port,
        tls,
        authentication,
        bootstrap_node_port=node_ports[0],
        brokers=overrides,
        alternative_names=(host,),
    )


def external_host_from_nodes(
    nodes: Sequence[dict[str, Any]], preferred: str | None = None
) -> tuple[str, str]:
    """(address, how it was chosen) of the first Ready node, by NodeUtils.findAddress's rule (Strimzi's
    default order, or the listener's preferred type): what a NodePort listener's status would name."""

    def ready(node: dict[str, Any]) -> bool:
        return is_ready((node.get("status") or {}).get("conditions"))

    ordered = sorted(nodes, key=lambda n: (not ready(n), (n.get("metadata") or {}).get("name", "")))
    for node in ordered:
        address = contract.find_address((node.get("status") or {}).get("addresses"), preferred)
        if address:
            name = (node.get("metadata") or {}).get("name")
            rule = f"preferred type {preferred}" if preferred else "Strimzi's default address order"
            return address, f"node {name}'s address by {rule}"
    raise UsageError(
        "no node of the cluster reports an address for node ports; pass --external-host "
        "(or KCONFORM_EXTERNAL_HOST) with the address this machine reaches the nodes at"
    )
