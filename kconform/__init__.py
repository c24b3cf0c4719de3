"""kconform: a conformance harness for Apache Kafka on Kubernetes with the Strimzi operator."""

__version__ = "0.1.0"
