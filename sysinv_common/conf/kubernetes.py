"""How the conductor reaches Kubernetes."""

from pydantic import BaseModel, Field


class KubernetesSettings(BaseModel):
    kubeconfig: str | None = Field(
        None, description="Path of the kubeconfig the conductor uses; unset: no cluster."
    )
    version: str = Field(
        "v1.36.3",
        pattern=r"^v\d+\.\d+\.\d+$",
        description="The Kubernetes version the platform runs: what kubeadm init deploys.",
    )
    pki_dir: str = Field(
        "/etc/kubernetes/pki",
        description=(
            "kubeadm's certificate directory on the conductor's controller: the cluster, "
            "front-proxy and etcd CAs and the service-account key pair it holds are uploaded, "
            "encrypted, for a second controller to join the control plane."
        ),
    )
    etcd_endpoints: list[str] = Field(
        default_factory=list,
        examples=[["https://192.168.206.3:2379", "https://192.168.206.4:2379"]],
        description=(
            "Client URLs of the control plane's etcd members (each controller's, port 2379): "
            "the conductor removes a drained controller's member through them. Empty: "
            "members are left to kubeadm reset."
        ),
    )
    etcd_ca_file: str = Field(
        "/etc/kubernetes/pki/etcd/ca.crt", description="The etcd CA, which etcd's servers use."
    )
    etcd_cert_file: str = Field(
        "/etc/kubernetes/pki/apiserver-etcd-client.crt",
        description="The client certificate the conductor presents to etcd (kubeadm's).",
    )
    etcd_key_file: str = Field(
        "/etc/kubernetes/pki/apiserver-etcd-client.key",
        description="The key of etcd_cert_file.",
    )
    request_timeout: float = Field(10.0, gt=0, description="Seconds per Kubernetes API request.")
    failover_retry_window: float = Field(
        10.0,
        ge=0,
        le=300,
        description=(
            "Seconds after a Kubernetes API call's first failure during which a refused "
            "connection, or one dropped under an idempotent call (GET, PUT, PATCH, DELETE), "
            "is tried again, as is an idempotent call answered with one of etcd's transient "
            "errors (500 'etcdserver: request timed out', 'leader changed', 'no leader'), so "
            "that a controller failover behind the floating endpoint delays calls instead of "
            "failing them. Timeouts and other answers are never retried. 0: no retry."
        ),
    )
    label_audit_interval: float = Field(
        60.0,
        gt=0,
        description="Seconds between audits that repair drift of the node labels sysinv owns.",
    )
    auth_webhook_url: str | None = Field(
        None,
        pattern=r"^https://",
        examples=["https://192.168.206.2:6386/webhook"],
        description=(
            "URL at which controllers' kube-apiserver reaches sysinv's token webhook "
            "(https://<address in api.webhook_cert_file>:<api.webhook_port>/webhook); each "
            "controller then gets the webhook kubeconfig, trusting the CA of the kubeconfig "
            "above. Unset: no webhook kubeconfig is written."
        ),
    )
