"""SCRAM-SHA-512: the Strimzi shapes the workflow relies on, pinned with the source they come from, and the
harness pieces that realise and consume them (no broker; the local integration run covers the real one)."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kconform import config as run_config
from kconform import errors, resources, secrets, workflows
from kconform.clients import kafka as kc
from kconform.clients import kafka_builders, operations
from kconform.clients.operations import Credentials, Endpoint
from kconform.paths import PROJECT_ROOT
from kconform.platforms.local import acls, scram_users, topology
from kconform.platforms.local.local_platform import LocalPlatform
from kconform.redact import redact
from kconform.schemas import SchemaSet
from kconform.versions import PROFILES, Profile
from kconform_fixtures import secret_ledger
from kconform_fixtures.scram import MTLS, PLAIN, TLS, scram_cluster
from tests.support.cli import run_module

RUN = "run-scram-1"
PROFILE_MODES = [(p, m) for p in PROFILES.values() for m in p.modes]


# ------------------------------------------------------------------------------ Strimzi shapes, pinned


def test_generated_password_has_strimzis_length_and_alphabet() -> None:
    """strimzi-kafka-operator 0.45.2 and 1.2.0, `operator-common/.../model/PasswordGenerator.java` (first
    character a-zA-Z, then a-zA-Z0-9) with `STRIMZI_SCRAM_SHA_PASSWORD_LENGTH` = 32
    (`user-operator/.../UserOperatorConfig.java`)."""
    passwords = {scram_users.generate_password() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]{31}", password), password


def test_user_secret_keys_and_jaas_config_are_strimzis() -> None:
    """`user-operator/.../model/KafkaUserModel.java` (0.45.2, 1.2.0): keys `password` and `sasl.jaas.config`
    (KEY_PASSWORD, KEY_SASL_JAAS_CONFIG), the jaas value from getSaslJsonConfig(username, password)."""
    data = scram_users.user_secret_data("alice", "Pw0rd")
    assert data == {
        "password": "Pw0rd",
        "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="Pw0rd";',
    }


def test_scram_principal_is_the_plain_user_name() -> None:
    """`KafkaUserModel.getScramUserName(name)` returns the name itself (`getTlsUserName` prefixes `CN=`):
    ACLs of a scram-sha-512 user apply to `User:<name>`, and `status.username` is `<name>`."""
    user = resources.kafka_user(
        PROFILES["1.2.0"], name="bob", namespace="ns", cluster="c", authentication="scram-sha-512", run_id=RUN
    )
    assert acls.principal_for(user) == "User:bob"
    tls_user = resources.kafka_user(PROFILES["1.2.0"], name="bob", namespace="ns", cluster="c", run_id=RUN)
    assert acls.principal_for(tls_user) == "User:CN=bob"


@pytest.mark.parametrize(
    ("tls", "authentication", "protocol"),
    [
        (False, "scram-sha-512", "SASL_PLAINTEXT"),
        (True, "scram-sha-512", "SASL_SSL"),
        (True, "tls", "SSL"),
        (False, None, "PLAINTEXT"),
    ],
)
def test_listener_security_protocol_follows_strimzi(
    tls: bool, authentication: str | None, protocol: str
) -> None:
    """`cluster-operator/.../model/KafkaBrokerConfigurationBuilder.java` getSecurityProtocol(tls, sasl):
    `SSL`/`PLAINTEXT` by `tls`, prefixed `SASL_` for scram-sha-512 (0.45.2 and 1.2.0)."""
    listener = topology.ListenerSpec("x", 9094, "internal", tls, authentication)
    assert listener.security_protocol == protocol


def _props(profile: Profile, mode: str) -> dict[str, str]:
    documents = scram_cluster(profile, mode, name="c", namespace="ns", run_id=RUN, admin_user="admin")
    kafka = documents[0]
    pools = [d for d in documents if d["kind"] == "KafkaNodePool"]
    topo = topology.plan_topology(kafka, pools)
    broker = topo.brokers[0]
    ports = {
        n.node_id: topology.NodePorts(9090, 9091, {item.name: 20000 + item.port for item in topo.listeners})
        for n in topo.nodes
    }
    files = topology.TlsFiles("key.pem", "cluster-ca.crt", "clients-ca.crt")
    return topology.server_properties(
        topo,
        broker,
        ports,
        files,
        data_dir="/d",
        zookeeper_connect="zk:2181" if mode == "zookeeper" else None,
    )


@pytest.mark.parametrize(("profile", "mode"), PROFILE_MODES, ids=lambda v: getattr(v, "strimzi", v))
def test_broker_config_of_scram_listeners_is_strimzis(profile: Profile, mode: str) -> None:
    """KafkaBrokerConfigurationBuilder.java configureAuthentication (0.45.2, 1.2.0): per SCRAM listener
    `listener.name.<name>-<port>.scram-sha-512.sasl.jaas.config` (the login module without options) and
    `listener.name.<...>.sasl.enabled.mechanisms=SCRAM-SHA-512`; globally `sasl.enabled.mechanisms=` (empty);
    the replication and control-plane listeners stay mutual TLS."""
    props = _props(profile, mode)
    protocols = dict(item.split(":") for item in props["listener.security.protocol.map"].split(","))
    assert protocols["SCRAM-9094"] == "SASL_PLAINTEXT"
    assert protocols["SCRAMTLS-9095"] == "SASL_SSL"
    assert protocols["TLS-9093"] == "SSL" and protocols["REPLICATION-9091"] == "SSL"
    for name in ("scram-9094", "scramtls-9095"):
        assert props[f"listener.name.{name}.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
        assert (
            props[f"listener.name.{name}.scram-sha-512.sasl.jaas.config"]
            == "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        )
    assert props["sasl.enabled.mechanisms"] == ""
    assert props["listener.name.scramtls-9095.ssl.client.auth"] == "none"  # SCRAM, not certificates
    assert props["inter.broker.listener.name"] == "REPLICATION-9091"


@pytest.mark.parametrize("version", ["0.45.2", "1.2.0"])
def test_listener_names_fit_the_crd_pattern(version: str) -> None:
    """`api/.../kafka/listener/GenericKafkaListener.java` LISTENER_NAME_REGEX `^[a-z0-9]{1,11}$`, served in the
    CRD of both tags (`packaging/install/cluster-operator/040-Crd-kafka.yaml`): the workflow's names pass, a
    12-character name is refused."""
    profile = PROFILES[version]
    checked = SchemaSet.for_profile(profile)
    documents = scram_cluster(profile, profile.modes[0], name="c", namespace="ns", run_id=RUN, admin_user="a")
    kafka = documents[0]
    assert [item["name"] for item in kafka["spec"]["kafka"]["listeners"]] == [MTLS, PLAIN, TLS]
    checked.validate(kafka)
    kafka["spec"]["kafka"]["listeners"][1]["name"] = "scramplain12"
    assert any("listeners" in problem for problem in checked.problems(kafka))


# ------------------------------------------------------------------------------ the user's password


def _user(password_ref: resources.PasswordRef | None = None) -> dict:
    return resources.kafka_user(
        PROFILES["1.2.0"],
        name="u",
        namespace="ns",
        cluster="c",
        authentication="scram-sha-512",
        run_id=RUN,
        password=password_ref,
    )


def test_password_comes_from_the_referenced_secret_then_the_existing_then_a_new_one() -> None:
    """KafkaUserModel.maybeGeneratePassword: the requested password wins, else the existing Secret's, else new."""
    ref = resources.PasswordRef("own", "pw")
    assert (
        scram_users.desired_password(_user(ref), {"password": "old"}, lambda _: {"pw": b"Chosen1"})
        == "Chosen1"
    )
    assert scram_users.desired_password(_user(), {"password": "Existing1"}, lambda _: {}) == "Existing1"
    assert len(scram_users.desired_password(_user(), None, lambda _: {})) == scram_users.PASSWORD_LENGTH


def test_missing_password_secret_or_key_fails_with_strimzis_message() -> None:
    """The NotReady messages of strimzi-kafka-operator 0.45.2 / 1.2.0: a missing Secret fails in
    `user-operator/.../operator/KafkaUserOperator.java` getRequiredSecret ("Secret %s in namespace %s not
    found", read from the KafkaUser's namespace) before `KafkaUserModel.maybeGeneratePassword` checks the key."""
    ref = resources.PasswordRef("own", "pw")

    def missing(_: str) -> dict:
        raise errors.PlatformError("Secret ns/own does not exist")

    with pytest.raises(errors.ResourceFailed, match=r"Secret own in namespace ns not found$"):
        scram_users.desired_password(_user(ref), None, missing)
    with pytest.raises(errors.ResourceFailed, match="does not contain the key pw"):
        scram_users.desired_password(_user(ref), None, lambda _: {"other": "x"})
    with pytest.raises(errors.ResourceFailed, match="The requested user password is empty"):
        scram_users.desired_password(_user(ref), None, lambda _: {"pw": ""})


@pytest.mark.parametrize(("profile", "mode"), PROFILE_MODES, ids=lambda v: getattr(v, "strimzi", v))
def test_scram_cluster_users_and_password_secret_validate(profile: Profile, mode: str) -> None:
    """The workflow's Kafka, its SCRAM users (generated and provided password) validate against the CRDs."""
    checked = SchemaSet.for_profile(profile)
    documents = scram_cluster(profile, mode, name="c", namespace="ns", run_id=RUN, admin_user="admin")
    for ref in (None, resources.PasswordRef("u-password")):
        documents.append(
            resources.kafka_user(
                profile,
                name="u",
                namespace="ns",
                cluster="c",
                authentication="scram-sha-512",
                acls=[resources.acl("topic", "t", ["Read"])],
                run_id=RUN,
                password=ref,
            )
        )
    for document in documents:
        checked.validate(document)
    provided = documents[-1]["spec"]["authentication"]
    assert provided == {
        "type": "scram-sha-512",
        "password": {"valueFrom": {"secretKeyRef": {"name": "u-password", "key": "password"}}},
    }


def test_a_provided_password_needs_scram() -> None:
    with pytest.raises(errors.UsageError, match="needs authentication scram-sha-512"):
        resources.kafka_user(
            PROFILES["1.2.0"],
            name="u",
            namespace="ns",
            cluster="c",
            run_id=RUN,
            password=resources.PasswordRef("p"),
        )


def test_password_secret_stores_base64_data() -> None:
    secret = resources.password_secret(
        name="p", namespace="ns", key="password", password="Abc123", run_id=RUN
    )
    assert secret["apiVersion"] == "v1" and secret["kind"] == "Secret"
    assert base64.b64decode(secret["data"]["password"]) == b"Abc123"


def test_password_secret_is_not_taken_for_a_user_secret_by_the_user_operator() -> None:
    """strimzi-kafka-operator 0.45.2 / 1.2.0: `user-operator/.../UserController.java` watches Secrets labelled
    `strimzi.io/kind=KafkaUser` plus the operator's STRIMZI_LABELS (`strimzi.io/cluster=<cluster>`,
    `EntityUserOperator.java`) and reconciles the KafkaUser named like the Secret; for a name with no
    KafkaUser, `KafkaUserOperator.delete` removes the Secret of that name. The referenced password Secret
    is read by name instead (`KafkaUserOperator.getRequiredSecret`), so it must carry neither label, while
    the KafkaUser must carry `strimzi.io/cluster` to be reconciled at all."""
    secret = resources.password_secret(
        name="u-password", namespace="ns", key="password", password="Abc123", run_id=RUN
    )
    labels = secret["metadata"]["labels"]
    assert "strimzi.io/kind" not in labels and resources.CLUSTER_LABEL not in labels
    assert labels == {resources.RUN_LABEL: RUN}
    user = _user(resources.PasswordRef("u-password"))
    assert user["metadata"]["labels"][resources.CLUSTER_LABEL] == "c"
    assert user["metadata"]["namespace"] == secret["metadata"]["namespace"]


def test_local_platform_keeps_a_users_secret_out_of_diagnostics(tmp_path: Path) -> None:
    local = LocalPlatform(
        PROFILES["1.2.0"],
        run_id=RUN,
        log_dir=tmp_path,
        schemas=SchemaSet.for_profile(PROFILES["1.2.0"]),
    )
    try:
        local.create_namespace("ns")
        local.apply(
            resources.password_secret(
                name="p", namespace="ns", key="password", password="Hidden42", run_id=RUN
            )
        )
        assert secrets.text(local.read_secret("ns", "p"), "password") == "Hidden42"
        assert "Hidden42" not in json.dumps(local.diagnostics("ns"))
        local.delete("Secret", "ns", "p")
        with pytest.raises(errors.PlatformError):
            local.read_secret("ns", "p")
    finally:
        local.close()


def test_secrets_text_decodes_bytes_and_names_a_missing_key() -> None:
    assert secrets.text({"password": b"abc"}, "password") == "abc"
    with pytest.raises(errors.PlatformError, match="Secret u has no key password"):
        secrets.text({"user.crt": b"x"}, "password", source="Secret u")


# ------------------------------------------------------------------------------ clients


def test_credentials_never_show_the_password() -> None:
    credentials = Credentials.scram("alice", "TopSecret99", ca_crt="-----BEGIN CERTIFICATE-----")
    assert "TopSecret99" not in repr(credentials) and "sasl_password=<redacted>" in repr(credentials)
    assert "TopSecret99" not in str(credentials)


@pytest.mark.parametrize(
    ("tls", "sasl", "protocol"),
    [
        (False, True, "SASL_PLAINTEXT"),
        (True, True, "SASL_SSL"),
        (True, False, "SSL"),
        (False, False, "PLAINTEXT"),
    ],
)
def test_client_speaks_the_protocol_of_endpoint_and_credentials(tls: bool, sasl: bool, protocol: str) -> None:
    credentials = Credentials.scram("alice", "pw") if sasl else Credentials()
    endpoint = Endpoint("localhost:9094", tls=tls)
    config = kafka_builders._base_config(endpoint, {}, 5, credentials)
    assert config["security_protocol"] == operations.security_protocol(endpoint, credentials) == protocol
    if sasl:
        assert (config["sasl_mechanism"], config["sasl_plain_username"]) == ("SCRAM-SHA-512", "alice")
        assert config["sasl_plain_password"] == "pw"
    else:
        assert "sasl_mechanism" not in config


def test_sasl_credentials_travel_in_the_request_and_parse_back() -> None:
    """The in-cluster client pod gets credentials in the request on stdin; the parser accepts the SASL keys."""
    req = operations.request(
        "list_topics", Endpoint("b:9095", tls=True), Credentials.scram("alice", "pw", ca_crt="ca")
    )
    _, _, credentials, _ = kc.parse_request(json.loads(json.dumps(req)))
    assert credentials == Credentials.scram("alice", "pw", ca_crt="ca")
    req["credentials"]["sasl_token"] = "x"
    with pytest.raises(errors.UsageError, match="unknown keys"):
        kc.parse_request(req)


def test_in_cluster_client_takes_the_password_on_stdin_and_never_answers_it(tmp_path: Path) -> None:
    """The kubernetes platform's client pod runs `manifests/clients/entry.py` per request through an exec:
    argv (visible in the pod's process list and in the API server's audit log) carries only the byte count,
    the SCRAM password travels on stdin, and the answer (which reaches test reports) never repeats it.
    Run here through the real entry script and remote module against a closed port."""
    from kconform.platforms.kubernetes import client_pod

    password = "Stdin0nlyPassw0rd"
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    req = operations.request(
        "list_topics",
        Endpoint(f"127.0.0.1:{closed}", tls=False),
        Credentials.scram("alice", password),
        timeout_s=1,
    )
    seen: dict[str, object] = {}

    def exec_in_pod(argv: list[str], stdin: str, timeout: float) -> str:
        seen["argv"], seen["stdin"] = argv, stdin
        done = subprocess.run(
            [sys.executable, str(client_pod.ENTRY), *argv[2:]],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            check=True,
        )
        seen["stdout"] = done.stdout + done.stderr
        return done.stdout

    with pytest.raises(errors.BrokerUnreachable) as unreachable:
        client_pod.PodClientRunner(exec_in_pod, timeout_margin_s=30).run(req)
    assert password not in " ".join(seen["argv"])  # type: ignore[arg-type]
    assert password in str(seen["stdin"])
    assert password not in str(seen["stdout"]) and password not in str(unreachable.value)


def test_client_pod_gets_the_kafka_python_release_the_harness_runs() -> None:
    """The SCRAM probes shipped into the pod import kafka-python's own SCRAM arithmetic
    (`kafka.net.sasl.scram`), a private module: the pod must get the release the local platform is tested
    with (the very files this process imports), not whatever newer release a range would pick."""
    import io
    import zipfile
    from importlib import metadata
    from pathlib import Path

    from kafka.net.sasl import scram
    from kafka.net.sasl.scram import ScramClient  # what `scram_refusal` imports inside the pod

    from kconform.platforms.kubernetes import client_pod

    assert ScramClient is not None
    shipped = zipfile.ZipFile(io.BytesIO(client_pod.kafka_python_zip()))
    assert shipped.read("kafka/net/sasl/scram.py") == Path(scram.__file__).read_bytes()
    assert metadata.version("kafka-python") == client_pod.KAFKA_PYTHON_VERSION


def test_a_request_or_jaas_config_is_redacted() -> None:
    req = operations.request(
        "list_topics", Endpoint("b:9094", tls=False), Credentials.scram("alice", "Leak7x")
    )
    assert "Leak7x" not in redact(json.dumps(req))
    jaas = scram_users.jaas_config("alice", "Leak7x")
    assert "Leak7x" not in redact(f"sasl.jaas.config={jaas}")
    assert "Leak7x" not in redact(yaml.safe_dump({"sasl.jaas.config": jaas}))


@pytest.fixture
def fake_broker() -> Iterator[tuple[kc.Address, list[bytes]]]:
    """A socket server playing a Kafka listener's part for one SaslHandshake: it answers error 0 and the
    mechanisms [SCRAM-SHA-512] (a SASL listener) or error 34 ILLEGAL_SASL_STATE (no SASL) per answer queued."""
    answers: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while answers:
            conn, _ = server.accept()
            with conn:
                (size,) = struct.unpack(">i", conn.recv(4))
                request = b""
                while len(request) < size:
                    request += conn.recv(size - len(request))
                assert struct.unpack_from(">h", request)[0] == 17  # SaslHandshake
                correlation = request[4:8]
                body = correlation + answers.pop(0)
                conn.sendall(struct.pack(">i", len(body)) + body)

    answers.extend(
        [
            struct.pack(">hi", 0, 1) + struct.pack(">h", 13) + b"SCRAM-SHA-512",
            struct.pack(">hi", 34, 0),
        ]
    )
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield kc.Address("127.0.0.1", server.getsockname()[1]), answers
    thread.join(timeout=5)
    server.close()


def test_sasl_probe_tells_a_sasl_listener_from_a_plain_one(fake_broker) -> None:
    address, _ = fake_broker
    assert kc.sasl_mechanisms(address, None) == ["SCRAM-SHA-512"]
    assert kc.sasl_mechanisms(address, None) is None


# ------------------------------------------------------------------------------ secret ledger, workflows


def test_ledger_finds_a_recorded_password_in_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = tmp_path / "ledger"
    monkeypatch.setenv(secret_ledger.LEDGER_ENV, str(ledger))
    secret_ledger.remember("Abcdefgh12345678")
    assert "Abcdefgh12345678" not in ledger.read_text()  # digests only
    assert ledger.stat().st_mode & 0o077 == 0
    entries = secret_ledger.read(ledger)
    assert secret_ledger.find_leaks('{"password": "Abcdefgh12345678"}', entries) == 1
    assert secret_ledger.find_leaks("xxAbcdefgh12345678yy", entries) == 1  # inside a longer word too
    assert secret_ledger.find_leaks("password=<redacted>", entries) == 0


def test_workflow_table_matches_the_scenarios() -> None:
    marked = {}
    for path in (PROJECT_ROOT / "scenarios").glob("test_*.py"):
        match = re.search(r'pytest\.mark\.workflow\("([^"]+)"\)', path.read_text(encoding="utf-8"))
        if match:
            marked[match.group(1)] = path.name
    assert marked == workflows.WORKFLOWS
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for name in workflows.WORKFLOWS:
        assert f"| `{name}` |" in readme


def test_unknown_workflow_is_one_line_naming_the_valid_ones() -> None:
    with pytest.raises(errors.UsageError) as refused:
        run_config.build(workflows=["scram-listener", "nope"], env={})
    assert "unknown workflow 'nope'" in str(refused.value) and "scram-listener" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert run_config.build(env={"KCONFORM_WORKFLOW": "user-acls, scram-listener"}).workflows == (
        "user-acls",
        "scram-listener",
    )
    assert run_config.build(env={}).workflows is None


def _pytest_junit(folder: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """Plain pytest run in `folder` (this checkout importable), writing junit.xml: the run and that report."""
    junit = folder / "junit.xml"
    done = run_module(
        "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", f"--junitxml={junit}", *args, cwd=folder
    )
    return done, junit.read_text(encoding="utf-8")


def test_a_failure_traceback_never_prints_a_hidden_password(tmp_path: Path) -> None:
    """pytest prints every traceback frame's arguments with repr into junit.xml: a plain str password would
    be printed there, a Hidden one (what the fixtures, the local platform and Credentials pass) is not."""
    (tmp_path / "test_leak.py").write_text(
        "from kconform.secrets import Hidden\n"
        "from kconform.clients.operations import Credentials\n"
        "def use(password, credentials):\n"
        "    raise RuntimeError('refused')\n"
        "def test_hidden():\n"  # the passwords are built at run time: the source lines show no value
        "    use(Hidden('Hidden' + 'Pw4242'), Credentials.scram('u', 'Cred' + 'Pw4242'))\n"
        "def test_plain():\n"
        "    use('Plain' + 'Pw4242', None)\n",
        encoding="utf-8",
    )
    done, report = _pytest_junit(tmp_path, str(tmp_path / "test_leak.py"))
    assert done.returncode == 1 and "PlainPw4242" in report  # the hazard is real
    assert "HiddenPw4242" not in report and "CredPw4242" not in report


def test_a_failed_exec_in_the_client_pod_never_prints_the_request(tmp_path: Path) -> None:
    """The kubernetes platform's `Kube.exec(namespace, pod, container, argv, stdin, timeout)` raises in its own
    frame when the exec fails (non-zero exit); pytest prints that last frame's arguments into junit.xml, and
    `stdin` is the request JSON with the SCRAM password. Through the real PodClientRunner and frame_request."""
    (tmp_path / "test_exec_leak.py").write_text(
        "from kconform.clients.operations import Credentials, Endpoint, request\n"
        "from kconform.errors import PlatformError\n"
        "from kconform.platforms.kubernetes.client_pod import PodClientRunner\n"
        "def exec_in_pod(argv, stdin, timeout):\n"
        "    raise PlatformError('exited 137')\n"
        "def test_exec_fails():\n"  # built at run time: the source lines show no value
        "    creds = Credentials.scram('u', 'Exec' + 'Pw4242')\n"
        "    req = request('list_topics', Endpoint('b:9094', tls=False), creds, timeout_s=1)\n"
        "    PodClientRunner(exec_in_pod).run(req)\n",
        encoding="utf-8",
    )
    done, junit_text = _pytest_junit(tmp_path)
    report = html.unescape(junit_text)
    assert done.returncode == 1 and "stdin = '<redacted>'" in report  # the frame's arguments are printed
    assert "ExecPw4242" not in report and "ExecPw4242" not in done.stdout


def test_hidden_values_keep_their_text_but_not_their_repr() -> None:
    password = secrets.Hidden("Abc123")
    assert password == "Abc123" and f"{password}" == "Abc123" and "Abc123" not in repr(password)
    data = scram_users.user_secret_data("u", "Abc123")
    assert "Abc123" not in repr(data) and "sasl.jaas.config" in repr(data)
    secret = resources.password_secret(
        name="p", namespace="ns", key="password", password="Abc123", run_id=RUN
    )
    assert base64.b64encode(b"Abc123").decode() not in repr(secret)
    assert yaml.safe_load(yaml.safe_dump(dict(data)))["password"] == "Abc123"


@pytest.mark.parametrize("version", ["0.45.2", "1.2.0"])
def test_plan_shows_scram_listeners_and_users_and_they_validate(version: str) -> None:
    from kconform.commands import plan
    from kconform.platforms.kubernetes import runplan
    from kconform.platforms.kubernetes.settings import KubeSettings

    profile = PROFILES[version]
    settings = KubeSettings(profile=profile, run_id=RUN, provider="kind", mode=profile.modes[0])
    steps = plan.validated(runplan.build(settings), SchemaSet.for_profile(profile))
    manifests = [s.manifest for s in steps if s.manifest is not None]
    kafka = next(m for m in manifests if m.get("kind") == "Kafka")
    scram_listeners = {
        (item["name"], item["tls"])
        for item in kafka["spec"]["kafka"]["listeners"]
        if (item.get("authentication") or {}).get("type") == "scram-sha-512"
    }
    assert scram_listeners == {("scram", False), ("scramtls", True)}
    users = [m for m in manifests if m.get("kind") == "KafkaUser"]
    assert [u["spec"]["authentication"]["type"] for u in users] == ["scram-sha-512", "scram-sha-512"]
    assert "password" in users[1]["spec"]["authentication"]
    text = plan.render_text(steps)
    assert "KafkaUser kconform-scram-own (scram-sha-512)" in text and "never printed" in text


# ------------------------------------------------------------------ the broker's log line, fresh only

# The broker lines for a client that sent METADATA before SASL, in the layouts of Strimzi's default broker
# logging (`cluster-operator/src/main/resources/default-logging/KafkaCluster.properties`): 0.45.2 (Kafka 3.9,
# log4j `%d{ISO8601} %p %m (%c) [%t]%n`, one INFO "Failed authentication" line) and 1.2.0 (Kafka 4.x, log4j2
# `%d{yyyy-MM-dd HH:mm:ss} %-5p [%t] %c{1}:%L - %m%n`, a WARN line then the exception on its own line).
STRIMZI_0_45_LINE = (
    "2026-11-22 18:22:0{n},045 INFO [SocketServer listenerType=ZK_BROKER, nodeId=0] Failed authentication with "
    "/10.244.0.9 (channelId=10.244.0.7:9094-10.244.0.9:4862{n}-4) (Unexpected Kafka request of type METADATA "
    "during SASL handshake.) (org.apache.kafka.common.network.Selector) [data-plane-kafka-network-thread-0]"
)
STRIMZI_1_2_LINES = (
    "2026-11-22 18:21:1{n} WARN  [data-plane-kafka-network-thread-0] Selector:{n}41 - [SocketServer "
    "listenerType=BROKER, nodeId=0] Unexpected error from /10.244.0.9 (channelId=10.244.0.7:9094-"
    "10.244.0.9:5589{n}-7-4); closing connection\n"
    "org.apache.kafka.common.errors.InvalidRequestException: Unexpected Kafka request of type METADATA "
    "during SASL handshake."
)


class LogPlatform:
    """Plays the platform's broker-log reading only: each call returns the next scripted log text."""

    def __init__(self, logs: list[str]) -> None:
        self.logs = logs

    def broker_log(self, namespace: str, cluster: str, lines: int = 300) -> str:
        return self.logs.pop(0) if len(self.logs) > 1 else self.logs[0]


class RefusingRunner:
    def run(self, req: dict) -> None:
        raise errors.ProtocolMismatch("the client spoke PLAINTEXT, but the listener expects SASL_PLAINTEXT")


def _scram_cluster_with_logs(logs: list[str]):
    from kconform_fixtures.cluster import KafkaCluster
    from kconform_fixtures.scram import ScramCluster

    kafka = KafkaCluster(LogPlatform(logs), PROFILES["1.2.0"], "kraft", "ns", "c", RUN, {}, [])  # type: ignore[arg-type]
    return ScramCluster(kafka)


@pytest.mark.parametrize("shape", [STRIMZI_0_45_LINE, STRIMZI_1_2_LINES], ids=["0.45.2", "1.2.0"])
def test_only_a_line_the_broker_wrote_for_this_request_is_quoted(shape: str) -> None:
    from kconform_fixtures.scram import _ExplainingRunner

    old = "--- c-dual-role-0\n" + shape.format(n=1)
    new = old + "\nINFO something else\n" + shape.format(n=2)
    req = operations.request("produce", Endpoint("b:9094", tls=False), None, topic="t", values=["x"])
    runner = _ExplainingRunner(RefusingRunner(), _scram_cluster_with_logs([old, new]))
    with pytest.raises(errors.ProtocolMismatch) as explained:
        runner.run(req)
    message = str(explained.value)
    assert "the broker logged:" in message and "Unexpected Kafka request of type METADATA" in message
    assert "during SASL handshake" in message
    if shape is STRIMZI_0_45_LINE:
        assert "48622" in message and "48621" not in message  # the new connection's line, not the old one


def _at_once(check, **_):
    """wait_until without the waiting: one look, a timeout if nothing is there."""
    found = check()
    if found is None:
        raise errors.KconformError("timed out")
    return found


@pytest.mark.parametrize("shape", [STRIMZI_0_45_LINE, STRIMZI_1_2_LINES], ids=["0.45.2", "1.2.0"])
def test_an_old_line_alone_is_not_quoted_as_the_brokers_answer(
    shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared cluster keeps earlier tests' lines: with nothing new, the mismatch is reported unquoted."""
    import kconform_fixtures.scram as fixture

    monkeypatch.setattr(fixture, "wait_until", _at_once)
    old = "--- c-dual-role-0\n" + shape.format(n=1)
    req = operations.request("produce", Endpoint("b:9094", tls=False), None, topic="t", values=["x"])
    runner = fixture._ExplainingRunner(RefusingRunner(), _scram_cluster_with_logs([old, old]))
    with pytest.raises(errors.ProtocolMismatch) as explained:
        runner.run(req)
    assert "the broker logged" not in str(explained.value)
