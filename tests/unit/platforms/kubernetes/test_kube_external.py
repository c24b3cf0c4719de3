"""Where node ports are reached on an existing cluster: --external-host, else a node's address by Strimzi's own
rule (operator-common NodeUtils.java findAddress, the rule behind a NodePort listener's status)."""

from __future__ import annotations

from typing import Any

import pytest

from kconform import config as run_config
from kconform.errors import PlatformError, UsageError
from kconform.platforms.kubernetes.external import external_host_from_nodes
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.providers.existing import ExistingProvider
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.schemas import SchemaSet
from kconform.versions import profile


def node(name: str, ready: bool, *addresses: tuple[str, str]) -> dict[str, Any]:
    """A v1 Node as the API returns it (status.addresses, status.conditions)."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {
            "addresses": [{"type": t, "address": a} for t, a in addresses],
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def test_a_cloud_node_is_reached_at_its_external_ip() -> None:
    nodes = [
        node("b-node", True, ("InternalIP", "10.0.0.5"), ("ExternalIP", "34.1.2.3"), ("Hostname", "b-node")),
        node("a-node", False, ("InternalIP", "10.0.0.4"), ("ExternalIP", "34.1.2.2")),
    ]
    host, how = external_host_from_nodes(nodes)
    assert host == "34.1.2.3"  # the Ready node first; ExternalIP before InternalIP in Strimzi's order
    assert "b-node" in how and "default address order" in how


def test_a_kind_like_node_is_reached_at_its_internal_ip_or_the_preferred_type() -> None:
    nodes = [
        node(
            "kconform-control-plane",
            True,
            ("InternalIP", "172.18.0.2"),
            ("Hostname", "kconform-control-plane"),
        )
    ]
    assert external_host_from_nodes(nodes)[0] == "172.18.0.2"
    assert external_host_from_nodes(nodes, "Hostname")[0] == "kconform-control-plane"


def test_no_address_is_one_line_naming_the_option() -> None:
    with pytest.raises(UsageError, match="--external-host"):
        external_host_from_nodes([node("n", True)])


def test_the_explicit_option_wins_and_flows_from_config_to_the_provider() -> None:
    config = run_config.build(
        platform="kubernetes", provider="existing", context="c", env={"KCONFORM_EXTERNAL_HOST": "192.0.2.7"}
    )
    assert config.external_host == "192.0.2.7"
    settings = KubeSettings.from_run_config(config, profile("1.2.0"), "kraft")
    assert ExistingProvider(settings).info().external_host == "192.0.2.7"
    without = KubeSettings(profile=profile("1.2.0"), run_id="r1", provider="existing", context="c")
    assert ExistingProvider(without).info().external_host == ""  # the platform asks the nodes


class ForbiddenNodes:
    """Stands in for an API server that refuses `list nodes` (no RBAC for it on a shared cluster)."""

    def list_objects(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        raise PlatformError(
            'list Node in all namespaces: nodes is forbidden: User "dev" cannot list resource'
        )


def test_nodes_that_cannot_be_read_are_one_line_naming_the_option() -> None:
    settings = KubeSettings(profile=profile("1.2.0"), run_id="r1", provider="existing", context="c")
    platform = KubernetesPlatform(
        settings,
        ForbiddenNodes(),
        ClusterInfo("c", None, "", created=False),
        SchemaSet([], "none"),  # type: ignore[arg-type]
    )
    with pytest.raises(UsageError, match=r"forbidden.*pass --external-host"):
        platform.external_host()
