"""Everything a kubernetes run executes, in order, as data (shown by `kconform plan`).

A step is a command (argv), a manifest (one object applied server-side) or a URL whose documents are applied.
"""

from __future__ import annotations

from typing import Any

from kconform import resources
from kconform.platforms.kubernetes import client_pod, external, images, install, migration_plan, ownership
from kconform.platforms.kubernetes.plan_step import Step
from kconform.platforms.kubernetes.providers import PROVIDERS, provider_for
from kconform.platforms.kubernetes.settings import INSTALLED, KubeSettings, client_image_from
from kconform.runconfig import RunConfig


def sidecar_pod(settings: KubeSettings, namespace: str) -> dict[str, Any]:
    """The bridge sidecar pod as the bridge-sidecar workflow applies it (its images are kconform's choice)."""
    pod, _ = resources.bridge_sidecar(
        name="kconform-sidecar",
        namespace=namespace,
        cluster="kconform",
        user="kconform-user",
        bridge_version=settings.profile.bridge_version,
        run_id=settings.run_id,
    )
    return images.mirror_pod(pod, settings.image_registry)


def cell_images(settings: KubeSettings, namespace: str = "kconform") -> dict[str, str]:
    """Every image the cell makes the cluster pull, as its final reference. With the installed Strimzi
    (no --install) its images are the operator's own and not listed: kconform changes nothing there."""
    found: dict[str, str] = {}
    if settings.installs_strimzi:
        strimzi = settings.strimzi_images()
        found["strimzi operator (also Topic/User Operator, Kafka init)"] = strimzi["operator"]
        found[f"kafka {settings.profile.kafka_version}"] = strimzi["kafka"]
    found["kconform client pod"] = images.at_registry(settings.client_image, settings.image_registry)
    sidecar = sidecar_pod(settings, namespace)
    for container in sidecar["spec"]["containers"]:
        found[f"bridge sidecar pod, container {container['name']}"] = container["image"]
    return found


def namespace_manifest(name: str, run_id: str) -> dict[str, Any]:
    """A namespace kconform creates (never one that exists already: see `ownership`)."""
    return ownership.namespace_manifest(name, run_id)


def example_cluster(settings: KubeSettings, namespace: str, host: str) -> list[dict[str, Any]]:
    """The Kafka cluster a run starts with: internal plain + TLS (mTLS users) and a node-port listener."""
    listeners = [
        resources.internal_listener("plain", 9092, False, None),
        resources.internal_listener("tls", 9093, True, "tls"),
        external.nodeport_listener("external", 9094, True, "tls", host=host, node_ports=settings.node_ports),
        # SCRAM-SHA-512: tls false → SASL_PLAINTEXT, tls true → SASL_SSL (the scram-listener workflow)
        resources.internal_listener("scram", 9095, False, resources.SCRAM_SHA_512),
        resources.internal_listener("scramtls", 9096, True, resources.SCRAM_SHA_512),
    ]
    return resources.kafka_cluster(
        settings.profile,
        settings.mode,
        name="kconform",
        namespace=namespace,
        listeners=listeners,
        authorization={"type": "simple"},
        super_users=("CN=kconform-admin",),
        run_id=settings.run_id,
    )


SCRAM_PASSWORD_SECRET = "kconform-scram-own-password"  # noqa: S105 - a Secret's name


def example_scram_users(settings: KubeSettings, namespace: str) -> list[dict[str, Any]]:
    """scram-sha-512 KafkaUsers: one with the operator's generated password, one with the user's own."""
    acls = [
        resources.acl("topic", "kconform-topic", ["Read", "Write", "Describe"]),
        resources.acl("group", "kconform-group", ["Read"]),
    ]
    common: dict[str, Any] = {
        "namespace": namespace,
        "cluster": "kconform",
        "authentication": resources.SCRAM_SHA_512,
        "acls": acls,
        "run_id": settings.run_id,
    }
    return [
        resources.kafka_user(settings.profile, name="kconform-scram", **common),
        resources.kafka_user(
            settings.profile,
            name="kconform-scram-own",
            password=resources.PasswordRef(SCRAM_PASSWORD_SECRET),
            **common,
        ),
    ]


def plan_settings(config: RunConfig) -> KubeSettings:
    """The one cluster a run's options describe, with the client pod's image and the mirror a run with this
    environment would use (a context stands in for provider existing's when none is given)."""
    profile, mode = config.cells()[0]
    provider = config.provider or "kind"
    uses_users_cluster = not PROVIDERS[provider].creates_cluster
    return KubeSettings(
        profile=profile,
        run_id=config.run_id,
        provider=provider,
        mode=mode,
        install=config.install or (INSTALLED if uses_users_cluster else "helm"),
        context=config.context or ("plan-context" if uses_users_cluster else None),
        kubernetes_version=config.kubernetes,
        image_registry=config.image_registry,
        client_image=client_image_from(None, config.image_registry),
    )


def build(
    settings: KubeSettings, *, test_namespace: str | None = None, host: str = "127.0.0.1"
) -> list[Step]:
    provider = provider_for(settings)
    namespace = test_namespace or f"kconform-{settings.run_id}"
    labels = {resources.RUN_LABEL: settings.run_id}
    steps: list[Step] = []
    if provider.needs_docker():
        steps.append(Step("check that the Docker engine runs", argv=["docker", "info"]))
    written = provider.cluster_config()
    if written is not None:
        config, path = written
        steps.append(
            Step(f"write the {provider.name} cluster config", manifest=config, notes=(f"written to {path}",))
        )
    fingerprint = provider.fingerprint()
    create_notes = (
        "skipped when a cluster of that name carries the same fingerprint "
        f"({fingerprint.provider}, k8s {fingerprint.kubernetes}, {fingerprint.node_image}, "
        f"strimzi {fingerprint.strimzi}); recreated when it differs",
    )
    for argv in provider.commands_for_create():
        steps.append(Step(f"create the {provider.name} cluster", argv=argv, notes=create_notes))
    if provider.creates_cluster:
        steps.append(Step("record the cluster fingerprint", manifest=fingerprint.to_configmap()))
    if settings.installs_strimzi:
        steps.append(
            Step(
                "operator namespace",
                manifest=namespace_manifest(settings.operator_namespace, settings.run_id),
                notes=("created only when absent; a namespace kconform did not create is refused",),
            )
        )
        context = provider.kubeconfig_context()
        for item in install.steps(settings, context):
            steps.append(Step(item.describe, argv=item.argv, url=item.url))
    else:
        steps.append(
            Step(
                "find the installed Strimzi Cluster Operator (Deployment strimzi-cluster-operator, any "
                "namespace) and take its version's profile; nothing is installed",
            )
        )
    steps.append(
        Step(
            "images the cluster pulls for this cell",
            images=cell_images(settings, namespace),
            notes=(f"from --image-registry {settings.image_registry}",) if settings.image_registry else (),
        )
    )
    steps.append(
        Step(
            f"wait for Deployment {settings.operator_namespace}/{settings.operator_deployment} to be Available",
            notes=("diagnostics on timeout: operator pod phases, namespace events, operator log tail",),
        )
    )
    steps.append(Step("test namespace", manifest=namespace_manifest(namespace, settings.run_id)))
    steps.append(
        Step(
            f"client code for the in-cluster client pod, with kafka-python {client_pod.KAFKA_PYTHON_VERSION}",
            manifest=client_pod.summarized(client_pod.code_configmap(namespace, labels)),
        )
    )
    steps.append(
        Step("in-cluster client pod", manifest=client_pod.pod(namespace, labels, settings.client_image))
    )
    for resource in example_cluster(settings, namespace, host):
        steps.append(Step(f"{resource['kind']} {resource['metadata']['name']}", manifest=resource))
    steps.append(
        Step(
            f"Secret {SCRAM_PASSWORD_SECRET}: the password a user provides (key password)",
            notes=("its value is chosen at run time and never printed",),
        )
    )
    for user in example_scram_users(settings, namespace):
        steps.append(Step(f"KafkaUser {user['metadata']['name']} (scram-sha-512)", manifest=user))
    if migration_plan.applies(settings):
        steps.extend(migration_plan.steps(settings, namespace))
    return steps
