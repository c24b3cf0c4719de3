"""The kubernetes platform's in-cluster client, run for real against a broker of the local platform.

The pod's exec is replaced by a local process running the same files the ConfigMap ships (`entry.py`, then
`python -m kconform.clients.remote`), so the framing, the request/response protocol and the error mapping
are exercised against real Kafka, mTLS and ACLs, exactly as in the client pod.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kconform import paths, resources
from kconform.clients.operations import Credentials, Endpoint, request
from kconform.errors import AuthorizationFailed
from kconform.platforms.kubernetes.client_pod import MOUNT_PATH, PodClientRunner
from kconform.platforms.local.platform import LocalPlatform
from kconform.versions import KRAFT, profile

pytestmark = pytest.mark.integration
ENTRY = paths.MANIFESTS_DIR / "clients" / "entry.py"


def exec_like_the_pod(argv: list[str], stdin: str, timeout: float) -> str:
    assert argv[:2] == ["python", f"{MOUNT_PATH}/entry.py"], argv
    done = subprocess.run(
        [sys.executable, str(ENTRY), *argv[2:]],
        input=stdin.encode(),
        capture_output=True,
        timeout=timeout,
        cwd=paths.PROJECT_ROOT,
        check=True,
    )
    return done.stdout.decode()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    prof = profile("1.2.0")
    run_id = "pod" + uuid.uuid4().hex[:6]
    platform = LocalPlatform(prof, run_id=run_id, log_dir=Path(tmp_path_factory.mktemp("logs")))
    try:
        for document in resources.kafka_cluster(
            prof,
            KRAFT,
            name="podc",
            namespace="ns",
            run_id=run_id,
            listeners=[resources.internal_listener("tls", 9093, tls=True, authentication="tls")],
            authorization={"type": "simple"},
        ):
            platform.apply(document)
        kafka = platform.wait_ready("Kafka", "ns", "podc", 300)
        for topic in ("allowed", "forbidden"):
            platform.apply(
                resources.kafka_topic(prof, name=topic, namespace="ns", cluster="podc", run_id=run_id)
            )
            platform.wait_ready("KafkaTopic", "ns", topic, 60)
        platform.apply(
            resources.kafka_user(
                prof,
                name="app",
                namespace="ns",
                cluster="podc",
                run_id=run_id,
                acls=[
                    resources.acl("topic", "allowed", ["Read", "Write"]),
                    resources.acl("group", "g", ["Read"]),
                ],
            )
        )
        platform.wait_ready("KafkaUser", "ns", "app", 60)
        # status names the bootstrap Service; on this machine it is the broker's local port.
        bootstrap = platform.resolve_service("ns", kafka["status"]["listeners"][0]["bootstrapServers"])
        endpoint = Endpoint(bootstrap, tls=True)
        credentials = Credentials.from_secrets(
            platform.read_secret("ns", "podc-cluster-ca-cert"), platform.read_secret("ns", "app")
        )
        yield endpoint, credentials
    finally:
        platform.close()


def test_produce_and_consume_through_the_pod_entry(cluster) -> None:
    endpoint, credentials = cluster
    runner = PodClientRunner(exec_like_the_pod)
    offsets = runner.run(
        request(
            "produce",
            endpoint,
            credentials,
            topic="allowed",
            values=["via pod"],
            key=None,
            idempotent=True,
            timeout_s=30,
        )
    )
    assert offsets == {"offsets": [{"partition": 0, "offset": 0}]}
    consumed = runner.run(
        request(
            "consume",
            endpoint,
            credentials,
            topic="allowed",
            group="g",
            count=1,
            timeout_s=30,
            from_beginning=True,
        )
    )
    assert [r["value"] for r in consumed["records"]] == ["via pod"]


def test_authorization_errors_cross_the_pod_boundary_typed(cluster) -> None:
    endpoint, credentials = cluster
    runner = PodClientRunner(exec_like_the_pod)
    with pytest.raises(AuthorizationFailed) as refused:
        runner.run(
            request(
                "produce",
                endpoint,
                credentials,
                topic="forbidden",
                values=["no"],
                key=None,
                idempotent=False,
                timeout_s=20,
            )
        )
    assert refused.value.scope == "topic"
