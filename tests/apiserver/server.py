"""A real etcd and kube-apiserver on loopback, the "envtest" pattern: no kubelet, no controllers, no operator.

What runs is the API server's own behaviour — CRDs, server-side apply with strict field validation, CEL rules,
status subresources, RBAC, namespaces, NodePort allocation. What does not run is anything a controller does:
pods never start, namespaces stay Terminating after a delete (the namespace controller lives in
kube-controller-manager), and no "default" ServiceAccount appears in new namespaces, which is why the
ServiceAccount admission plugin is off (it would refuse every Pod for lack of that account).
"""

from __future__ import annotations

import secrets
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kconform.platforms.local.ports import free_ports
from kconform.platforms.local.processes import ManagedProcess, ProcessSupervisor
from kconform.waits import wait_until
from tests.throwaway_pki import Ca, certificate_pem, key_pem

CONTEXT = "kconform-apiserver"  # the kubeconfig context the tests (and `kconform run --context`) use
USER = "kconform-admin"
UNBOUND_USER = "kconform-nobody"  # authenticated, but no RBAC binding names it
NODE_PORT_RANGE = "32100-32199"  # holds the fixed node ports the kubernetes platform asks for (32100-32107)
SERVICE_CIDR = "10.96.0.0/16"
READY_TIMEOUT_S = 60.0


def _serving_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a serving certificate for 127.0.0.1 / localhost: (ca, cert, key) paths."""
    ca = Ca.create("kconform-apiserver-ca")
    cert, key = ca.issue("kube-apiserver", ips=["127.0.0.1"], names=["localhost"])
    paths = (folder / "ca.crt", folder / "serving.crt", folder / "serving.key")
    paths[0].write_bytes(certificate_pem(ca.cert))
    paths[1].write_bytes(certificate_pem(cert))
    paths[2].write_bytes(key_pem(key))
    return paths


def _service_account_keys(folder: Path) -> tuple[Path, Path]:
    """The key pair the API server signs and verifies service-account tokens with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = folder / "sa.key", folder / "sa.pub"
    private.write_bytes(key_pem(key))
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@dataclass
class ApiServer:
    """A running pair; `kubeconfig` holds context CONTEXT with a bearer token of a system:masters user."""

    url: str
    kubeconfig: Path
    context: str
    token: str
    unbound_token: str
    ca_file: Path
    log_dir: Path
    etcd: ManagedProcess
    apiserver: ManagedProcess
    supervisor: ProcessSupervisor

    def pids(self) -> list[int]:
        return [self.etcd.pid, self.apiserver.pid]

    def status_of(self, path: str, token: str | None = None) -> int:
        """The HTTP status of a GET (0 when nothing answers)."""
        request = urllib.request.Request(  # noqa: S310 - https to our own loopback server
            f"{self.url}{path}", headers={"Authorization": f"Bearer {token or self.token}"}
        )
        context = ssl.create_default_context(cafile=str(self.ca_file))
        try:
            with urllib.request.urlopen(request, context=context, timeout=2) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as err:
            return int(err.code)
        except (urllib.error.URLError, OSError):
            return 0

    def readyz(self) -> bool:
        return self.status_of("/readyz") == 200

    def stop(self) -> None:
        self.supervisor.stop_all(timeout=15)


def _kubeconfig(path: Path, url: str, ca: Path, token: str) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": url, "certificate-authority": str(ca)}}],
        "users": [{"name": USER, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": USER}}],
        "current-context": CONTEXT,
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)


def start(*, kube_apiserver: Path, etcd: Path, workdir: Path, log_dir: Path, run_id: str) -> ApiServer:
    """Start etcd, then kube-apiserver, on free loopback ports; return once /readyz answers 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    ca, cert, key = _serving_certificate(workdir)
    sa_key, sa_pub = _service_account_keys(workdir)
    token, unbound_token = secrets.token_hex(24), secrets.token_hex(24)
    tokens = workdir / "tokens.csv"
    tokens.write_text(
        f'{token},{USER},{USER},"system:masters"\n{unbound_token},{UNBOUND_USER},{UNBOUND_USER}\n'
    )
    tokens.chmod(0o600)
    etcd_client, etcd_peer, secure_port = free_ports(3)
    url = f"https://127.0.0.1:{secure_port}"
    supervisor = ProcessSupervisor(run_id, log_dir)
    try:
        etcd_process = supervisor.start(
            "etcd",
            [
                str(etcd),
                f"--data-dir={workdir / 'etcd-data'}",
                f"--listen-client-urls=http://127.0.0.1:{etcd_client}",
                f"--advertise-client-urls=http://127.0.0.1:{etcd_client}",
                f"--listen-peer-urls=http://127.0.0.1:{etcd_peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}",
                f"--initial-cluster=default=http://127.0.0.1:{etcd_peer}",
                "--unsafe-no-fsync",  # a throwaway store: durability buys nothing, fsync costs seconds
                "--log-level=warn",
            ],
        )
        apiserver_process = supervisor.start(
            "kube-apiserver",
            [
                str(kube_apiserver),
                f"--etcd-servers=http://127.0.0.1:{etcd_client}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={secure_port}",
                f"--cert-dir={workdir / 'certs'}",
                f"--tls-cert-file={cert}",
                f"--tls-private-key-file={key}",
                f"--token-auth-file={tokens}",
                "--authorization-mode=RBAC",
                f"--service-account-issuer={url}",
                f"--service-account-key-file={sa_pub}",
                f"--service-account-signing-key-file={sa_key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--service-node-port-range={NODE_PORT_RANGE}",
                "--disable-admission-plugins=ServiceAccount",
                "--allow-privileged=true",
                "--v=1",
            ],
        )
        server = ApiServer(
            url=url,
            kubeconfig=workdir / "kubeconfig",
            context=CONTEXT,
            token=token,
            unbound_token=unbound_token,
            ca_file=ca,
            log_dir=log_dir,
            etcd=etcd_process,
            apiserver=apiserver_process,
            supervisor=supervisor,
        )

        def ready() -> bool:
            etcd_process.ensure_alive()
            apiserver_process.ensure_alive()
            return server.readyz()

        wait_until(
            ready,
            describe=f"kube-apiserver {url}/readyz to answer 200",
            timeout=READY_TIMEOUT_S,
            interval=0.2,
            diagnose=lambda: (
                "kube-apiserver log:\n" + apiserver_process.tail(30) + "\netcd log:\n" + etcd_process.tail(10)
            ),
        )
    except BaseException:
        supervisor.stop_all(timeout=15)
        raise
    _kubeconfig(server.kubeconfig, url, ca, token)
    return server
