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

import kafka.errors
import pytest
from kafka import KafkaConsumer

from kconform import paths, resources
from kconform.clients.local_runner import InProcessRunner
from kconform.clients.operations import Credentials, Endpoint, request
from kconform.errors import AuthenticationFailed, AuthorizationFailed, ClientError
from kconform.platforms.kubernetes.client_pod import MOUNT_PATH, PodClientRunner
from kconform.platforms.local.local_platform import LocalPlatform
from kconform.secrets import text
from kconform.versions import KRAFT, profile
from kconform_fixtures.clients import KafkaClient

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
            listeners=[
                resources.internal_listener("tls", 9093, tls=True, authentication="tls"),
                resources.internal_listener("scramtls", 9095, tls=True, authentication="scram-sha-512"),
            ],
            authorization={"type": "simple"},
        ):
            platform.apply(document)
        kafka = platform.wait_ready("Kafka", "ns", "podc", 300)
        for topic in ("allowed", "forbidden", "commits"):
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
                    resources.acl("topic", "commits", ["Read", "Write"]),
                    resources.acl("group", "g-commit", ["Read"]),
                ],
            )
        )
        platform.wait_ready("KafkaUser", "ns", "app", 60)
        platform.apply(
            resources.kafka_user(
                prof,
                name="sasl",
                namespace="ns",
                cluster="podc",
                authentication="scram-sha-512",
                run_id=run_id,
                acls=[resources.acl("topic", "allowed", ["Write", "Describe"])],
            )
        )
        platform.wait_ready("KafkaUser", "ns", "sasl", 60)
        # status names the bootstrap Service; on this machine it is the broker's local port.
        listeners = kafka["status"]["listeners"]
        endpoint = Endpoint(platform.resolve_service("ns", listeners[0]["bootstrapServers"]), tls=True)
        ca = platform.read_secret("ns", "podc-cluster-ca-cert")
        credentials = Credentials.from_secrets(ca, platform.read_secret("ns", "app"))
        scram_endpoint = Endpoint(platform.resolve_service("ns", listeners[1]["bootstrapServers"]), tls=True)
        password = text(platform.read_secret("ns", "sasl"), "password")
        scram = (scram_endpoint, Credentials.scram("sasl", password, ca_crt=text(ca, "ca.crt")))
        yield endpoint, credentials, scram
    finally:
        platform.close()


def test_produce_and_consume_through_the_pod_entry(cluster) -> None:
    endpoint, credentials, _ = cluster
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
    endpoint, credentials, _ = cluster
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


def test_scram_credentials_travel_on_stdin_and_a_wrong_password_is_typed(cluster) -> None:
    """SASL_SSL with SCRAM-SHA-512 through the pod's entry: the password goes in the request on stdin (never
    in argv), the produce succeeds, and a wrong password comes back as AuthenticationFailed."""
    _, _, (endpoint, credentials) = cluster
    seen: list[list[str]] = []

    def recording_exec(argv: list[str], stdin: str, timeout: float) -> str:
        seen.append(argv)
        return exec_like_the_pod(argv, stdin, timeout)

    runner = PodClientRunner(recording_exec)
    produce = {"topic": "allowed", "values": ["sasl via pod"], "key": None, "idempotent": False}
    assert runner.run(request("produce", endpoint, credentials, timeout_s=30, **produce))["offsets"]
    assert credentials.sasl_password and all(credentials.sasl_password not in " ".join(a) for a in seen)
    wrong = Credentials.scram("sasl", "WrongPassword1", ca_crt=credentials.ca_crt)
    with pytest.raises(AuthenticationFailed, match="SCRAM-SHA-512"):
        runner.run(request("produce", endpoint, wrong, timeout_s=6, **produce))


def test_records_read_come_back_when_the_answer_to_their_commit_is_lost(cluster, monkeypatch) -> None:
    """A commit whose answer never came (a broker rolled after storing it) must not drop the records read:
    the broker kept the offsets, so the group never hands those records out again. A CI migration run
    counted ten acknowledged messages as lost this way (one consume batch)."""
    endpoint, credentials, _ = cluster
    client = KafkaClient(InProcessRunner(), endpoint, credentials, timeout_s=5)
    client.produce("commits", ["c-0", "c-1"])
    real_commit = KafkaConsumer.commit

    def commit_then_lose_the_answer(self, *args, **kwargs):  # a double for the lost answer only
        real_commit(self, *args, **kwargs)
        raise kafka.errors.KafkaTimeoutError("no answer to OffsetCommit")

    monkeypatch.setattr(KafkaConsumer, "commit", commit_then_lose_the_answer)
    records, failure = client.read("commits", group="g-commit", count=2)
    assert [r["value"] for r in records] == ["c-0", "c-1"]
    assert isinstance(failure, ClientError) and "commit offsets" in str(failure), failure
    client.produce("commits", ["c-2"])
    with pytest.raises(ClientError, match="commit offsets"):  # consume() still says the commit failed
        client.consume("commits", group="g-commit", count=1)
    monkeypatch.undo()
    # The broker stored both commits: nothing is handed out again.
    assert client.consume("commits", group="g-commit", count=1) == []
