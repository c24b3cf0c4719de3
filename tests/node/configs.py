"""What the node's components are told: the configuration files of containerd, the CNI plugins, the kubelet,
kube-proxy and CoreDNS, the kubeconfigs, and the cluster objects the node needs (CoreDNS's RBAC, the
`kube-dns` Service naming CoreDNS on the node). Text only; tests/node/cluster.py writes and starts them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.node import build, images, pki
from tests.node.sandbox import Sandbox

NODE_NAME = "kconform-node"
CONTEXT = "kconform-node"
POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/16"
API_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
API_PORT = 6443
PAUSE_IMAGE = images.PAUSE.reference


def kubeconfig_text(server: str, ca: Path, user: str, token: str, context: str = CONTEXT) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": server, "certificate-authority": str(ca)}}],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": user}}],
            "current-context": context,
        }
    )


def containerd_config(work: Path) -> str:
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{work}/root"
state = "{work}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "{work}/containerd.sock"

[ttrpc]
  address = "{work}/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{work}/opt"

[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  # This machine withholds CAP_SYS_RESOURCE: without this every sandbox fails writing oom_score_adj.
  restrict_oom_score_adj = true
  disable_apparmor = true

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.cni]
  bin_dir = "{build.CNI_DIR}"
  conf_dir = "{work}/net.d"
"""


def cni_config(work: Path) -> str:
    return json.dumps(
        {
            "cniVersion": "0.4.0",
            "name": "kconform-node",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": "cni0",
                    "isGateway": True,
                    "ipMasq": True,  # pods reach the host as the node IP (the host has no route to pods)
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_CIDR}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": str(work / "ipam"),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        },
        indent=1,
    )


def kubelet_config(work: Path, node: Sandbox, creds: pki.Pki, socket_path: Path) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "failCgroupV1": False,  # this machine has cgroup v1 only; v1.35 refuses it unless told
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": f"/{node.cgroup_root}",
            "containerRuntimeEndpoint": f"unix://{socket_path}",
            "address": node.node_ip,
            "port": 10250,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": 10248,
            "tlsCertFile": str(creds.kubelet_cert),
            "tlsPrivateKeyFile": str(creds.kubelet_key),
            "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
            "authorization": {"mode": "AlwaysAllow"},
            "clusterDNS": [DNS_SERVICE_IP],
            "clusterDomain": CLUSTER_DOMAIN,
            "resolvConf": "",  # no upstream resolvers: the node has no route off this machine
            "failSwapOn": False,
            "protectKernelDefaults": False,
            # A shared, busy machine: evict only when truly out of room, never collect images.
            "evictionHard": {
                "memory.available": "50Mi",
                "nodefs.available": "1%",
                "imagefs.available": "1%",
                "nodefs.inodesFree": "1%",
            },
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "serializeImagePulls": False,
            "podPidsLimit": -1,
            "syncFrequency": "10s",
            "nodeStatusUpdateFrequency": "5s",
            "staticPodPath": str(work / "manifests"),
            "podLogsDirectory": str(work / "pod-logs"),
        }
    )


def kube_proxy_config(kubeconfig: Path) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "mode": "iptables",
            "clientConnection": {"kubeconfig": str(kubeconfig)},
            "hostnameOverride": NODE_NAME,
            "clusterCIDR": POD_CIDR,
            "bindAddress": "0.0.0.0",  # noqa: S104 - inside the node's own network namespace
            "metricsBindAddress": "127.0.0.1:10249",
            "healthzBindAddress": "127.0.0.1:10256",
            # Zeros leave the conntrack sysctls alone: nf_conntrack_max is host-wide.
            "conntrack": {
                "maxPerCore": 0,
                "min": 0,
                "tcpEstablishedTimeout": "0s",
                "tcpCloseWaitTimeout": "0s",
            },
        }
    )


COREFILE = f""".:53 {{
    errors
    health :8080
    ready :8181
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {{kubeconfig}} {CONTEXT}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 30
    loop
    reload
}}
"""

CLUSTER_OBJECTS = f"""
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kconform:coredns
rules:
  - apiGroups: [""]
    resources: [endpoints, services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kconform:coredns
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "kconform:coredns"}}
subjects:
  - {{apiGroup: rbac.authorization.k8s.io, kind: User, name: "kconform:coredns"}}
---
# CoreDNS runs on the node, not in a pod: the Service has no selector and names the node's address.
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {{k8s-app: kube-dns}}
spec:
  clusterIP: {DNS_SERVICE_IP}
  ports:
    - {{name: dns, port: 53, protocol: UDP, targetPort: 53}}
    - {{name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-node
  namespace: kube-system
  labels: {{kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: kconform.dev}}
addressType: IPv4
endpoints:
  - addresses: ["{{node_ip}}"]
    conditions: {{ready: true}}
ports:
  - {{name: dns, port: 53, protocol: UDP}}
  - {{name: dns-tcp, port: 53, protocol: TCP}}
"""
