"""Kafka jars from Maven Central: resolution, caching without Maven, concurrency, errors, and a real broker.

The first resolution of a Kafka version may take minutes on a cold ~/.m2; later ones are a file read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kconform.errors import MissingPrerequisite, UsageError
from kconform.platforms.local import jars
from kconform.platforms.local.java import find_java
from kconform.platforms.local.kafka_cluster import kafka_cluster_id
from kconform.platforms.local.pki import CertificateAuthority, write_pem
from kconform.platforms.local.ports import free_ports, wait_for_port
from kconform.platforms.local.processes import ProcessSupervisor, find_run_processes
from kconform.waits import wait_until

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KAFKA_VERSIONS = ("4.3.1", "3.9.2")
REAL_MVN = shutil.which("mvn")
# Maven is a prerequisite of the local platform (.ci/run installs it): its absence fails, never skips.
needs_mvn = pytest.mark.usefixtures("maven_installed")


@pytest.fixture
def maven_installed() -> None:
    if REAL_MVN is None:
        pytest.fail("mvn not on PATH: apt-get install maven")


@pytest.fixture
def counting_mvn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put an `mvn` first on PATH that records each call, then runs the real Maven. Returns the record."""
    assert REAL_MVN is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "mvn-calls"
    wrapper = bin_dir / "mvn"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {REAL_MVN} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return calls


def _calls(record: Path) -> int:
    return len(record.read_text().splitlines()) if record.exists() else 0


def _without_mvn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))


@needs_mvn
@pytest.mark.parametrize("version", KAFKA_VERSIONS)
def test_kafka_classpath_resolves_once_then_needs_no_maven(
    version: str, tmp_path: Path, counting_mvn: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = jars.kafka_classpath(version, cache)
    assert _calls(counting_mvn) == 1
    names = {jar.name for jar in first}
    assert f"kafka_2.13-{version}.jar" in names
    assert f"kafka-clients-{version}.jar" in names
    assert any(name.startswith("scala-library-") for name in names)
    if version.startswith("3."):
        assert {"slf4j-reload4j-1.7.36.jar", "reload4j-1.2.25.jar"} <= names
        assert any(name.startswith("zookeeper-3.") for name in names)
    else:
        assert any(name.startswith("log4j-slf4j-impl-") for name in names)
        assert any(name.startswith("log4j-core-") for name in names)
    assert all(jar.parent.name == "lib" and jar.parent.parent.parent == cache / "jars" for jar in first)

    _without_mvn(monkeypatch, tmp_path)  # the cached answer must not need Maven at all
    assert jars.kafka_classpath(version, cache) == first
    assert _calls(counting_mvn) == 1


@needs_mvn
def test_concurrent_callers_run_maven_once(tmp_path: Path, counting_mvn: Path) -> None:
    cache = tmp_path / "cache"
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from kconform.platforms.local.jars import resolve_classpath
        jars = resolve_classpath(["org.apache.kafka:kafka-clients:4.3.1"], Path(sys.argv[1]))
        print("\\n".join(str(jar) for jar in jars))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(cache)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], [err for _, err in outputs]
    assert len({out for out, _ in outputs}) == 1
    assert "kafka-clients-4.3.1.jar" in outputs[0][0]
    assert _calls(counting_mvn) == 1


@needs_mvn
def test_a_version_that_does_not_exist_is_named(tmp_path: Path) -> None:
    with pytest.raises(MissingPrerequisite) as caught:
        jars.resolve_classpath(["org.apache.kafka:kafka_2.13:0.0.404"], tmp_path)
    message = str(caught.value)
    assert "org.apache.kafka:kafka_2.13:0.0.404" in message
    assert "does not exist on Maven Central" in message
    assert not list((tmp_path / "jars").glob(f"*/{jars.MARKER}"))  # a failure is not cached


def test_missing_maven_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _without_mvn(monkeypatch, tmp_path)
    with pytest.raises(MissingPrerequisite, match="apt-get install maven"):
        jars.resolve_classpath(["org.apache.kafka:kafka-clients:4.3.1"], tmp_path / "cache")


@pytest.mark.parametrize("bad", ["kafka", "org.apache.kafka:kafka_2.13", "a:b:c:d", "a b:c:1"])
def test_bad_coordinates_are_usage_errors(bad: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="group:artifact:version"):
        jars.resolve_classpath([bad], tmp_path)


# --- the resolved classpath runs a broker that logs and serves mutual TLS from PEM files


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[ProcessSupervisor]:
    with ProcessSupervisor(f"jars-{uuid.uuid4().hex[:8]}", tmp_path / "logs") as sup:
        yield sup
    assert find_run_processes(sup.run_id) == []


@needs_mvn
@pytest.mark.parametrize("version", KAFKA_VERSIONS)
def test_resolved_classpath_runs_a_logging_kraft_broker_with_pem_mtls(
    version: str, tmp_path: Path, supervisor: ProcessSupervisor
) -> None:
    kafka_python = pytest.importorskip("kafka")
    classpath = os.pathsep.join(str(jar) for jar in jars.kafka_classpath(version))
    java = find_java(17)
    cluster_ca, clients_ca = CertificateAuthority.cluster_ca(), CertificateAuthority.clients_ca()
    broker_cert = cluster_ca.issue(
        "local-kafka-0", organization="io.strimzi", sans=["localhost", "127.0.0.1"]
    )
    user = clients_ca.issue("alice")
    tls_port, plain_port, controller_port = free_ports(3)
    keystore = write_pem(tmp_path / "broker-keystore.pem", broker_cert.keystore_pem)
    truststore = write_pem(tmp_path / "clients-ca.pem", clients_ca.cert_pem)
    config = tmp_path / "server.properties"
    config.write_text(
        textwrap.dedent(
            f"""
            process.roles=broker,controller
            node.id=0
            controller.quorum.voters=0@127.0.0.1:{controller_port}
            controller.listener.names=CONTROLLER
            listeners=TLS://127.0.0.1:{tls_port},REPLICATION://127.0.0.1:{plain_port},CONTROLLER://127.0.0.1:{controller_port}
            advertised.listeners=TLS://localhost:{tls_port},REPLICATION://127.0.0.1:{plain_port}
            listener.security.protocol.map=TLS:SSL,REPLICATION:PLAINTEXT,CONTROLLER:PLAINTEXT
            inter.broker.listener.name=REPLICATION
            listener.name.tls.ssl.keystore.type=PEM
            listener.name.tls.ssl.keystore.location={keystore}
            listener.name.tls.ssl.truststore.type=PEM
            listener.name.tls.ssl.truststore.location={truststore}
            listener.name.tls.ssl.client.auth=required
            log.dirs={tmp_path / "data"}
            offsets.topic.replication.factor=1
            transaction.state.log.replication.factor=1
            transaction.state.log.min.isr=1
            """
        )
    )
    jvm = [str(java.executable), "-Xmx384m", *jars.kafka_logging_jvm_options(version, tmp_path / "conf")]
    formatted = subprocess.run(
        [
            *jvm,
            "-cp",
            classpath,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            kafka_cluster_id(),  # never starting with "-", which the parser takes for an option (1 in 64 did)
            "-c",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr

    broker = supervisor.start("kafka-0", [*jvm, "-cp", classpath, "kafka.Kafka", str(config)])
    wait_for_port("127.0.0.1", tls_port, timeout=180, process=broker)
    # INFO lines prove the logging backend is bound (without one, slf4j drops everything).
    wait_until(
        lambda: "Kafka Server started" in broker.tail(400),
        describe=f"Kafka {version} to log that it started",
        timeout=180,
        diagnose=lambda: broker.tail(30),
    )
    assert " INFO " in broker.tail(400)

    ca_file = write_pem(tmp_path / "cluster-ca.crt", cluster_ca.cert_pem)
    cert_file = write_pem(tmp_path / "user.crt", user.cert_pem)
    key_file = write_pem(tmp_path / "user.key", user.key_pem)
    consumer = kafka_python.KafkaConsumer(
        bootstrap_servers=f"localhost:{tls_port}",
        security_protocol="SSL",
        ssl_cafile=str(ca_file),
        ssl_certfile=str(cert_file),
        ssl_keyfile=str(key_file),
        request_timeout_ms=30000,
    )
    try:
        assert isinstance(consumer.topics(), set)  # a metadata round trip over mutual TLS
    finally:
        consumer.close()
    broker.ensure_alive()
