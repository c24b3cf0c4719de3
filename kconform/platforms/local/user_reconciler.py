"""KafkaUser: a certificate from the clients CA (tls) or SCRAM-SHA-512 credentials in Kafka (scram-sha-512), the
user's Secret and its ACLs, each in effect before the user is Ready."""

from __future__ import annotations

from typing import Any

from kconform.errors import UsageError
from kconform.platforms.local import acls, scram_users, strimzi_secrets
from kconform.platforms.local.reconciler import LocalState, admin, cluster_of
from kconform.waits import wait_until


def authentication(user: dict[str, Any]) -> str | None:
    return (user["spec"].get("authentication") or {}).get("type")


class UserReconciler:
    kind = "KafkaUser"
    ready_condition = True

    def __init__(self, state: LocalState) -> None:
        self.state = state

    def reconcile(self, user: dict[str, Any], timeout: float) -> None:
        state = self.state
        cluster = state.running_cluster(user)
        namespace, name = user["metadata"]["namespace"], user["metadata"]["name"]
        auth = authentication(user)
        if auth not in ("tls", scram_users.SCRAM):
            raise UsageError(
                f"KafkaUser {name}: authentication {auth!r} is not realised locally; use tls or {scram_users.SCRAM}"
            )
        password = None
        if auth == "tls" and (namespace, name) not in state.secrets:
            issued = cluster.clients_ca.issue(name)
            state.secrets[(namespace, name)] = strimzi_secrets.tls_user_secret(
                name, cluster.clients_ca, issued
            )
        elif auth == scram_users.SCRAM:
            password = scram_users.desired_password(
                user,
                state.secrets.get((namespace, name)),
                lambda secret: state.read_secret(namespace, secret),
            )
        principal = acls.principal_for(user)
        wanted = acls.bindings(user)
        with admin(cluster) as client:
            if password is not None:
                # Like the User Operator: credentials in Kafka first, then the Secret; Ready once in effect.
                scram_users.upsert(client, name, password)
                wait_until(
                    lambda: scram_users.in_effect(client, name),
                    describe=f"the SCRAM-SHA-512 credentials of KafkaUser {name} to be in effect",
                    timeout=timeout,
                )
                state.secrets[(namespace, name)] = scram_users.user_secret_data(name, password)
            acls.reconcile(client, principal, wanted)
            wait_until(
                lambda: acls.in_effect(client, principal, wanted),
                describe=f"the ACLs of KafkaUser {name} to be in effect",
                timeout=timeout,
            )
        username = f"CN={name}" if auth == "tls" else name
        user["status"].update({"username": username, "secret": name})

    def delete(self, user: dict[str, Any]) -> None:
        namespace, name = user["metadata"]["namespace"], user["metadata"]["name"]
        cluster = self.state.clusters.get((namespace, cluster_of(user)))
        if cluster:
            with admin(cluster) as client:
                acls.reconcile(client, acls.principal_for(user), set())
                if authentication(user) == scram_users.SCRAM:
                    scram_users.delete(client, name)
        self.state.secrets.pop((namespace, name), None)
