"""How the conductor reaches Kubernetes."""

from pydantic import BaseModel, Field


class KubernetesSettings(BaseModel):
    kubeconfig: str | None = Field(
        None, description="Path of the kubeconfig the conductor uses; unset: no cluster."
    )
    request_timeout: float = Field(10.0, gt=0, description="Seconds per Kubernetes API request.")
    label_audit_interval: float = Field(
        60.0,
        gt=0,
        description="Seconds between audits that repair drift of the node labels sysinv owns.",
    )
