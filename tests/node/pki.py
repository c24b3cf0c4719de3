"""The node's throwaway certificates and tokens: one CA, the API server's serving certificate (valid for the
node IP, the `kubernetes` Service's cluster IP and its DNS names), the kubelet's serving certificate, the
service-account signing key, and one bearer token per component (static token file)."""

from __future__ import annotations

import datetime
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

_VALIDITY = datetime.timedelta(days=1)


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


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


def _certificate(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_name: x509.Name,
    common_name: str,
    ips: list[str],
    names: list[str],
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    sans += [x509.DNSName(name) for name in names]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


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
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kconform-node-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    names = [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    api_cert, api_key = _certificate(
        ca_key, ca_name, "kube-apiserver", [node_ip, service_ip, "127.0.0.1"], ["localhost", *names]
    )
    kubelet_cert, kubelet_key = _certificate(ca_key, ca_name, node_name, [node_ip], [node_name])
    pem = serialization.Encoding.PEM
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
    paths["ca"].write_bytes(ca.public_bytes(pem))
    paths["apiserver_cert"].write_bytes(api_cert.public_bytes(pem))
    _write_private(paths["apiserver_key"], _key_pem(api_key))
    paths["kubelet_cert"].write_bytes(kubelet_cert.public_bytes(pem))
    _write_private(paths["kubelet_key"], _key_pem(kubelet_key))
    sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_private(paths["sa_key"], _key_pem(sa))
    paths["sa_pub"].write_bytes(
        sa.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
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
    _write_private(paths["token_file"], ("\n".join(lines) + "\n").encode())
    return Pki(identities=identities, **paths)
