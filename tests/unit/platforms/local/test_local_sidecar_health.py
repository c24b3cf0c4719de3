"""Where the local sidecar tells clients to find the bridge's /healthy and /ready, per bridge version.

strimzi-kafka-bridge src/main/java/io/strimzi/kafka/bridge/http/HttpBridge.java: at 0.31.2 the healthy and ready
handlers answer 204 NO_CONTENT on the HTTP (API) port; at 1.1.0 a separate management server on
`http.management.port` (HttpConfig.java) serves them with 200. The local platform used to hand the fixture's
client the API port as the management URL for 0.31.2, so a real 0.31.2 bridge answering 204 read as unhealthy and
not ready. The servers below answer like the bridge's endpoints (no bridge runs); the scenario checks the real ones.
"""

from __future__ import annotations

from kconform.clients.bridge_client import BridgeClient
from kconform.platforms.local.sidecar import management_url
from tests.unit.clients.test_bridge_client import BridgeState, _serve


def test_an_old_bridge_is_probed_on_its_api_port_where_it_answers_204() -> None:
    assert management_url("0.31.2", 8081) is None
    for api in _serve(BridgeState(health_status=204)):
        with BridgeClient(
            api.url, management_url=management_url("0.31.2", 8081), bridge_version="0.31.2"
        ) as c:
            assert c.healthy() and c.ready()


def test_a_new_bridge_is_probed_on_its_management_port_where_it_answers_200() -> None:
    for management in _serve(BridgeState(health_status=200)):
        port = int(management.url.rsplit(":", 1)[1])
        assert management_url("1.1.0", port) == management.url
        with BridgeClient("http://127.0.0.1:1", management_url=management_url("1.1.0", port)) as c:
            assert c.healthy() and c.ready()
