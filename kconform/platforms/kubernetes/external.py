"""External access through fixed NodePorts: the listener overrides that match the cluster's port mappings.

Brokers must advertise an address the test host can reach; on kind that is 127.0.0.1 at the mapped port, so
each broker's nodePort, advertisedHost and advertisedPort are pinned together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kconform import resources
from kconform.errors import UsageError


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
