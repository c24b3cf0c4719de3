"""The node's throwaway certificates and tokens: one CA, the API server's serving certificate (valid for the
node IP, the `kubernetes` Service's cluster IP and its DNS names), the kubelet's serving certificate, the
service-account signing key, and one bearer token per component (static token file)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.throwaway_pki import Ca, certificate_pem, key_pem, write_private


@dataclass(frozen=True)
class Identity:
    """A component's user in the static token file: name, groups, token."""

    user: str
    groups: tuple[str, ...]
    token: str


@dataclass(frozen=True)
class Pki:
    ca: Path
    apiserver_cert: Path
    apiserver_key: Path
    kubelet_cert: Path
    kubelet_key: Path
    sa_key: Path
    sa_pub: Path
    token_file: Path
    identities: dict[str, Identity]


# Users the API server's bootstrap RBAC already grants what each component needs (system:node via the Node
# authorizer for the kubelet, system:kube-proxy -> system:node-proxier, ...); the admin is system:masters.
COMPONENT_USERS = {
    "admin": ("kconform-admin", ("system:masters",)),
    "controller-manager": ("system:kube-controller-manager", ()),
    "scheduler": ("system:kube-scheduler", ()),
    "kube-proxy": ("system:kube-proxy", ()),
    # CoreDNS runs as a process on the node with this user; tests/node/cluster.py binds it to a ClusterRole.
    "coredns": ("kconform:coredns", ()),
}


def create(folder: Path, *, node_name: str, node_ip: str, service_ip: str) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    ca = Ca.create("kconform-node-ca")
    names = [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    api_cert, api_key = ca.issue(
        "kube-apiserver", ips=[node_ip, service_ip, "127.0.0.1"], names=["localhost", *names]
    )
    kubelet_cert, kubelet_key = ca.issue(node_name, ips=[node_ip], names=[node_name])
    paths = {
        "ca": folder / "ca.crt",
        "apiserver_cert": folder / "apiserver.crt",
        "apiserver_key": folder / "apiserver.key",
        "kubelet_cert": folder / "kubelet.crt",
        "kubelet_key": folder / "kubelet.key",
        "sa_key": folder / "sa.key",
        "sa_pub": folder / "sa.pub",
        "token_file": folder / "tokens.csv",
    }
    paths["ca"].write_bytes(certificate_pem(ca.cert))
    paths["apiserver_cert"].write_bytes(certificate_pem(api_cert))
    write_private(paths["apiserver_key"], key_pem(api_key))
    paths["kubelet_cert"].write_bytes(certificate_pem(kubelet_cert))
    write_private(paths["kubelet_key"], key_pem(kubelet_key))
    sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_private(paths["sa_key"], key_pem(sa))
    paths["sa_pub"].write_bytes(
        sa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    users = dict(COMPONENT_USERS)
    users["kubelet"] = (f"system:node:{node_name}", ("system:nodes",))  # what the Node authorizer expects
    identities = {
        component: Identity(user, groups, secrets.token_hex(24))
        for component, (user, groups) in users.items()
    }
    lines = [
        f'{i.token},{i.user},{i.user},"{",".join(i.groups)}"' if i.groups else f"{i.token},{i.user},{i.user}"
        for i in identities.values()
    ]
    write_private(paths["token_file"], ("\n".join(lines) + "\n").encode())
    return Pki(identities=identities, **paths)
