"""The alarms sysinv raises: StarlingX's ids and entity instance ids, severities, and the
texts an operator reads (docs/alarms.md).

Pure definitions, shared by the conductor (which raises and clears) and the API (which
validates filters); the writes are ``sysinv_common.states.alarm``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


class EventState(StrEnum):
    """An event log row's ``state``, as StarlingX names them."""

    SET = "set"
    CLEAR = "clear"
    LOG = "log"


class SuppressionStatus(StrEnum):
    SUPPRESSED = "suppressed"
    UNSUPPRESSED = "unsuppressed"


# StarlingX's fm_api ids for the same faults.
HOST_FAILED = "200.004"
CONFIG_OUT_OF_DATE = "250.001"
APP_UPLOAD_FAILED = "750.001"
APP_APPLY_FAILED = "750.002"
APP_REMOVE_FAILED = "750.003"
APP_APPLYING = "750.004"
APP_UPDATING = "750.005"
APP_REAPPLY_PENDING = "750.006"
# Customer logs (events with no alarm behind them).
LOG_HOST_DISCOVERED = "200.020"
CEPH_HEALTH = "800.001"
# sysinv's own: StarlingX has no alarm for a Node its labels or cordon could not reach.
KUBE_NODE_OUT_OF_SYNC = "850.100"
#: sysinv's own, in the application range: StarlingX does not watch for drift.
APP_DRIFT = "750.100"

ENTITY_HOST = "host"
ENTITY_APP = "k8s_application"
ENTITY_CLUSTER = "cluster"


def host_entity(hostname: str) -> str:
    return f"{ENTITY_HOST}={hostname}"


def app_entity(name: str) -> str:
    return f"{ENTITY_APP}={name}"


def cluster_entity(fsid: str) -> str:
    return f"{ENTITY_CLUSTER}={fsid}"


@dataclass(frozen=True)
class Fault:
    """One alarm as raised: what the alarms table and the event log record."""

    alarm_id: str
    entity_type_id: str
    entity_instance_id: str
    severity: Severity
    reason_text: str
    alarm_type: str
    probable_cause: str
    proposed_repair_action: str
    service_affecting: bool = False
    suppression: bool = True


def host_offline(hostname: str, silent_for: float) -> Fault:
    return Fault(
        HOST_FAILED, ENTITY_HOST, host_entity(hostname), Severity.CRITICAL,
        f"{hostname} is offline: its agent has not reported for {silent_for:.0f} seconds.",
        "operational-violation", "loss-of-signal",
        f"Check that {hostname} is powered on, reachable and that its sysinv-agent runs.",
        service_affecting=True, suppression=False,
    )  # fmt: skip


def config_out_of_date(hostname: str, target: str, error: str | None) -> Fault:
    why = f"; its last apply failed: {error}" if error else ""
    return Fault(
        CONFIG_OUT_OF_DATE, ENTITY_HOST, host_entity(hostname), Severity.MAJOR,
        f"{hostname} Configuration is out-of-date (target {target} not applied{why}).",
        "operational-violation", "configuration-out-of-date",
        f"Check the sysinv-agent log of {hostname}; lock and unlock {hostname} to reapply "
        "its configuration.",
    )  # fmt: skip


#: The failed alarm of each application operation.
APP_FAILED = {
    "upload": APP_UPLOAD_FAILED,
    "apply": APP_APPLY_FAILED,
    "update": APP_APPLY_FAILED,
    "remove": APP_REMOVE_FAILED,
}
#: The in-progress alarm of the operations StarlingX raises one for.
APP_RUNNING = {"apply": APP_APPLYING, "update": APP_UPDATING}
_REPAIR = {
    "upload": "Check the application bundle and upload it again.",
    "apply": "Fix the failing chart's overrides (system helm-override-update) and reapply "
    "the application.",
    "update": "Fix the failing chart's overrides and update or reapply the application.",
    "remove": "Check the application's releases and remove the application again.",
}


def app_failed(operation: str, name: str, reason: str) -> Fault:
    title = operation.capitalize()
    return Fault(
        APP_FAILED[operation], ENTITY_APP, app_entity(name), Severity.MAJOR,
        f"Application {title} Failure: {name}: {reason}",
        "other", "application-failure" if operation != "upload" else "unknown",
        _REPAIR[operation],
    )  # fmt: skip


def app_running(operation: str, name: str) -> Fault:
    verb = "Apply" if operation == "apply" else "Update"
    return Fault(
        APP_RUNNING[operation], ENTITY_APP, app_entity(name), Severity.WARNING,
        f"Application {verb} In Progress: {name}", "other", "unknown",
        "No action required.",
    )  # fmt: skip


def host_discovered(hostname: str) -> Fault:
    return Fault(
        LOG_HOST_DISCOVERED, ENTITY_HOST, host_entity(hostname), Severity.WARNING,
        f"{hostname} has been 'discovered' on the network: its agent registered it.",
        "other", "unspecified-reason",
        f"Set the personality of {hostname} (system host-update) to provision it.",
    )  # fmt: skip


def node_out_of_sync(hostname: str, message: str) -> Fault:
    return Fault(
        KUBE_NODE_OUT_OF_SYNC, ENTITY_HOST, host_entity(hostname), Severity.MAJOR,
        f"Kubernetes Node {hostname} does not have the state sysinv recorded: {message}",
        "communication", "communication-subsystem-failure",
        "Check the Kubernetes API; the conductor's label audit retries, or run "
        f"host-label-assign / lock / unlock on {hostname} again.",
    )  # fmt: skip


def ceph_health(fsid: str, health: str, details: str) -> Fault:
    """StarlingX's storage alarm: HEALTH_WARN is major, HEALTH_ERR (or a cluster that cannot
    be reached, ``health`` then saying so) critical."""
    severity = Severity.MAJOR if health == "HEALTH_WARN" else Severity.CRITICAL
    return Fault(
        CEPH_HEALTH, ENTITY_CLUSTER, cluster_entity(fsid), severity,
        f"Storage Alarm Condition: {health}{f' ({details})' if details else ''}. "
        "Please check 'ceph -s' for more details.",
        "equipment", "equipment-malfunction",
        "If problem persists, check the Ceph cluster's monitors and OSDs ('ceph health "
        "detail').",
        service_affecting=severity is Severity.CRITICAL,
    )  # fmt: skip


def app_drift(name: str, objects: list[str]) -> Fault:
    """The drift audit found ``objects`` (``Deployment/ns/web: spec.replicas``, ...) of
    the applied app ``name`` not as its releases deployed them."""
    shown = "; ".join(objects[:5]) + (f"; and {len(objects) - 5} more" if len(objects) > 5 else "")
    return Fault(
        APP_DRIFT, ENTITY_APP, app_entity(name), Severity.MINOR,
        f"Application {name} has drifted from what was applied: {len(objects)} object(s) "
        f"changed or deleted outside sysinv: {shown}",
        "operational-violation", "configuration-out-of-date",
        f"See system application-show {name} (drift); reapply the application "
        f"(system application-apply {name}) to restore what was applied.",
    )  # fmt: skip
