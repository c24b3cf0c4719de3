"""Data, installed as `kconform_manifests`: Strimzi resources, the sidecar pod and its bridge config, the kind
cluster config and the client pod's entry script. Read through `kconform.paths.MANIFESTS_DIR`."""
