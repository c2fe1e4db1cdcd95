"""Node agents: how the agent runs on its node, and how the conductor watches agents."""

from pathlib import Path

from pydantic import BaseModel, Field


class AgentSettings(BaseModel):
    hostname: str | None = Field(
        None, description="This node's name (default: <root>/etc/hostname, else the hostname)."
    )
    root: Path = Field(Path("/"), description="Where configuration files are written.")
    inventory_root: Path | None = Field(
        None, description="Where /sys, /proc and /etc are read for inventory (default: root)."
    )
    cluster_host_interface: str | None = Field(
        None,
        description=(
            "The interface the floating cluster-host address goes on while this node is "
            "the active controller (default: the management interface, the first physical "
            "one under /sys/class/net)."
        ),
        pattern=r"^[A-Za-z0-9_.:-]{1,15}$",
    )
    record_commands: bool = Field(
        False,
        description=(
            "Record commands (systemctl, kubeadm) in <root>/var/lib/sysinv-agent/commands.log "
            "instead of running them (tests, embedded mode)."
        ),
    )
    record_failures: list[str] = Field(
        default_factory=list,
        description="With record_commands: recorded commands containing one of these fail.",
    )
    key_file: Path | None = Field(
        None,
        description=(
            "This node's key, which signs every report of its agent: the output of "
            "`sysinv agent-key HOSTNAME`, in a file only sysinv-agent can read (0600). "
            "Required by sysinv-agent (sysinv aio's local agent needs none)."
        ),
    )
    heartbeat_interval: float = Field(30.0, gt=0, description="Seconds between heartbeats.")
    offline_timeout: float = Field(
        90.0, gt=0, description="Conductor: a host whose agent is silent this long is offline."
    )
    master_key_file: Path | None = Field(
        None,
        description=(
            "Conductor: the master key every host's key is derived from (32 random bytes, "
            "created 0600 at first use; default: <state_dir>/agent-master.key). Every "
            "conductor of a deployment needs the same file; replacing it voids every "
            "installed host key."
        ),
    )
    audit_interval: float = Field(
        30.0, gt=0, description="Conductor: seconds between host availability/config audits."
    )
