"""What the conductor tells an agent to make its node look like, and what agents report.

These models are the whole contract between ``sysinv-conductor`` and ``sysinv-agent``:
they travel as JSON over the Celery task queues, so both sides validate them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DockerConfig(_Model):
    #: host:port of the local registry, trusted with ``registry_ca`` when given.
    registry: str | None = None
    registry_ca: str | None = Field(None, description="PEM of the registry's CA")
    registry_mirrors: list[str] = Field(default_factory=list)
    insecure_registries: list[str] = Field(default_factory=list)
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None
    cgroup_driver: str = "systemd"
    #: The login the node pulls from ``registry`` with (a Keystone user), written 0600 to
    #: root's Docker client config, which kubelet reads too.
    registry_username: str | None = None
    registry_password: str | None = Field(None, repr=False)


class JoinConfig(_Model):
    """How a node not yet in the cluster joins it (kubeadm JoinConfiguration)."""

    api_endpoint: str = Field(description="host:port of the Kubernetes API")
    token: str = Field(description="bootstrap token <id>.<secret>")
    ca_cert_hashes: list[str] = Field(description="sha256:<hex> of the cluster CA's public key")
    control_plane: bool = False
    #: Control-plane joins only: the hex key the ``kubeadm-certs`` Secret is encrypted with
    #: (a credential: never logged, hidden from repr). A worker never gets one.
    certificate_key: str | None = Field(None, repr=False, pattern=r"^[0-9a-f]{64}$")
    #: Control-plane joins only: the address its kube-apiserver advertises (its mgmt IP).
    advertise_address: str | None = None


class InitConfig(_Model):
    """How the controller that bootstraps the cluster creates it (kubeadm v1beta4
    InitConfiguration + ClusterConfiguration, with ``kubeadm init --upload-certs``)."""

    kubernetes_version: str = Field(description="e.g. v1.36.3")
    control_plane_endpoint: str = Field(description="host:port of the floating API address")
    advertise_address: str = Field(description="this controller's own address")
    cert_sans: list[str] = Field(description="extra names of the API server's certificate")
    pod_subnet: str
    service_subnet: str
    etcd_data_dir: str = "/var/lib/etcd"


class KubernetesConfig(_Model):
    node_ip: str | None = None
    cgroup_driver: str = "systemd"
    #: Labels the node registers with when it joins (the conductor keeps them after).
    labels: dict[str, str] = Field(default_factory=dict)
    #: Set while the node has not joined; None once its Node exists.
    join: JoinConfig | None = None
    #: Set, instead of ``join``, for the controller that creates the cluster.
    init: InitConfig | None = None
    #: The host is being deleted: leave the cluster (kubeadm reset).
    leave: bool = False
    #: Controllers only: the kubeconfig naming sysinv's token webhook that kube-apiserver's
    #: ``--authentication-token-webhook-config-file`` reads (docs/auth.md). None: no file.
    auth_webhook_kubeconfig: str | None = None


class CalicoConfig(_Model):
    node_name: str
    #: Calico's IP_AUTODETECTION_METHOD, e.g. ``cidr=192.168.206.0/24``.
    ip_autodetection: str


class CephMonitor(_Model):
    name: str
    #: As the monmap has it: ``[v2:IP:PORT,v1:IP:PORT]``.
    addr: str


class CephOsd(_Model):
    id: int
    uuid: str
    #: The OSD's cephx key; written 0600 into its keyring, never logged.
    secret: str = Field(repr=False)


class CephDaemons(_Model):
    """A platform-managed cluster's daemons on this host: its monitor (and manager), if it
    runs one, and its OSDs, with what the whole cluster shares."""

    #: Every monitor of the cluster (the monmap), this host's included.
    monitors: list[CephMonitor]
    #: This host's monitor and manager name; None: it runs none.
    monitor: str | None = None
    #: ``mon.`` and ``client.admin`` keys (a keyring's text), for the monitor's mkfs; 0600.
    mon_keyring: str | None = Field(None, repr=False)
    osds: list[CephOsd] = Field(default_factory=list)
    #: The replication sysinv chose for the pools (StarlingX's rule on storage hosts).
    pool_size: int
    pool_min_size: int
    public_network: str
    objectstore: str = "bluestore"
    #: Extra ``[global]`` options the site sets (memstore sizes, warning thresholds).
    options: dict[str, str] = Field(default_factory=dict)


class CephConfig(_Model):
    fsid: str | None = None
    mon_host: list[str]
    #: The client keyring's text; written 0600, never logged (hidden from repr).
    keyring: str | None = Field(None, repr=False)
    #: Set for a platform-managed cluster: the daemons this host runs.
    daemons: CephDaemons | None = None


class FloatingAddress(_Model):
    """The floating cluster-host address (kubeadm's ``controlPlaneEndpoint``), which only
    the active controller holds: its agent adds it to the node's cluster-host interface."""

    address: str
    #: The cluster-host subnet's prefix length.
    prefix: int = Field(ge=0, le=128)


class HostConfig(_Model):
    """The desired configuration of one host; ``target`` names this version of it."""

    target: str
    hostname: str
    personality: str | None = None
    #: locked/unlocked: a locked host keeps its configuration but does not join.
    administrative: str = "locked"
    docker: DockerConfig = Field(default_factory=DockerConfig)
    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig)
    calico: CalicoConfig | None = None
    #: None: the platform has no Ceph cluster; the configurator then does nothing.
    ceph: CephConfig | None = None
    #: Set for the active controller only; every other host's agent removes the address
    #: if it added it (after a swact, the controller that was active).
    floating_address: FloatingAddress | None = None


class ConfiguratorResult(_Model):
    name: str
    ok: bool
    changed: bool = False
    #: Files written and commands run (or recorded), for the operator and the tests.
    files: list[str] = Field(default_factory=list)
    commands: list[list[str]] = Field(default_factory=list)
    message: str = ""


class Disk(_Model):
    name: str
    size_bytes: int
    rotational: bool | None = None


class Inventory(_Model):
    hostname: str
    mgmt_mac: str | None = None
    mgmt_ip: str | None = None
    cpus: int | None = None
    memory_bytes: int | None = None
    disks: list[Disk] = Field(default_factory=list)
    os: str | None = None
    agent_version: str | None = None
