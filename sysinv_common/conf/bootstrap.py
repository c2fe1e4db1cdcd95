"""The bootstrap section: facts about the platform recorded once, at first start.

Like StarlingX's bootstrap playbook, these seed the system row and the platform
settings; later changes go through the API, not through this file.
"""

from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network

from pydantic import BaseModel, Field, model_validator


class SystemType(StrEnum):
    ALL_IN_ONE = "All-in-one"
    STANDARD = "Standard"


class SystemMode(StrEnum):
    SIMPLEX = "simplex"
    DUPLEX = "duplex"
    DUPLEX_DIRECT = "duplex-direct"


#: The modes each system type allows (sysinv's rule).
ALLOWED_MODES: dict[SystemType, tuple[SystemMode, ...]] = {
    SystemType.ALL_IN_ONE: (SystemMode.SIMPLEX, SystemMode.DUPLEX, SystemMode.DUPLEX_DIRECT),
    SystemType.STANDARD: (SystemMode.DUPLEX,),
}


class RegistrySettings(BaseModel):
    address: str | None = Field(None, description="host:port of the local image registry.")
    ca_cert_file: str | None = Field(None, description="CA certificate file of the registry.")
    credentials_ref: str | None = Field(
        None, description="Reference to the registry credentials (never the secret itself)."
    )


class CephSettings(BaseModel):
    monitors: list[str] = Field(default_factory=list, description="host:port of each monitor.")
    fsid: str | None = Field(None, description="The cluster's fsid.")
    keyring_path: str | None = Field(None, description="Keyring file of the Ceph client.")


class BootstrapSettings(BaseModel):
    system_name: str = Field("sysinv", description="Name of the system row.")
    system_type: SystemType = Field(SystemType.ALL_IN_ONE, description="sysinv's system type.")
    system_mode: SystemMode = Field(
        SystemMode.SIMPLEX,
        description="All-in-one: simplex, duplex or duplex-direct; Standard: duplex only.",
    )
    region_name: str = Field("RegionOne", description="Region of the system row.")
    description: str | None = Field(None, description="Free text of the system row.")
    location: str | None = Field(None, description="Free text of the system row.")
    contact: str | None = Field(None, description="Free text of the system row.")
    mgmt_subnet: IPv4Network | IPv6Network = Field(
        IPv4Network("192.168.204.0/24"), description="Management network."
    )
    cluster_host_subnet: IPv4Network | IPv6Network = Field(
        IPv4Network("192.168.206.0/24"), description="Cluster-host network (node traffic)."
    )
    pod_subnet: IPv4Network | IPv6Network = Field(
        IPv4Network("172.16.0.0/16"), description="Pod network: the Calico IP pool."
    )
    service_subnet: IPv4Network | IPv6Network = Field(
        IPv4Network("10.96.0.0/12"), description="Kubernetes service network."
    )
    kubernetes_api_endpoint: str | None = Field(
        None, description="https://host:port of the Kubernetes API, as nodes reach it."
    )
    registry: RegistrySettings = Field(
        default_factory=RegistrySettings, description="The local image registry."
    )
    external_ceph: CephSettings | None = Field(
        None, description="An external Ceph cluster; unset: none."
    )

    @model_validator(mode="after")
    def _mode_fits_type(self) -> "BootstrapSettings":
        if self.system_mode not in ALLOWED_MODES[self.system_type]:
            allowed = ", ".join(ALLOWED_MODES[self.system_type])
            raise ValueError(
                f"system_mode {self.system_mode!s} is not valid for a {self.system_type!s} "
                f"system (allowed: {allowed})"
            )
        return self
