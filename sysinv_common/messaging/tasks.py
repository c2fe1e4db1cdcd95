"""Names of the conductor's tasks: the API's only way to reach it.

The conductor registers a handler under each name; the API sends by name, so it never
imports the conductor.
"""

from enum import StrEnum


class ConductorTask(StrEnum):
    PING = "sysinv.conductor.ping"
    HOST_SYNC = "sysinv.conductor.host_sync"
    HOST_ACTION = "sysinv.conductor.host_action"
    HOST_DELETE = "sysinv.conductor.host_delete"
    LABELS_ASSIGN = "sysinv.conductor.labels_assign"
    LABEL_REMOVE = "sysinv.conductor.label_remove"
    LABEL_AUDIT = "sysinv.conductor.label_audit"
    APP_UPLOAD = "sysinv.conductor.app_upload"
    APP_APPLY = "sysinv.conductor.app_apply"
    APP_REMOVE = "sysinv.conductor.app_remove"
    APP_UPDATE = "sysinv.conductor.app_update"
    APP_DELETE = "sysinv.conductor.app_delete"
    APP_APPLY_CHECK = "sysinv.conductor.app_apply_check"
    HELM_CHART_SHOW = "sysinv.conductor.helm_chart_show"
    HELM_CHART_UPDATE = "sysinv.conductor.helm_chart_update"
    AGENT_REGISTER = "sysinv.conductor.agent_register"
    AGENT_HEARTBEAT = "sysinv.conductor.agent_heartbeat"
    AGENT_CONFIG_APPLIED = "sysinv.conductor.agent_config_applied"


class AgentTask(StrEnum):
    """What the conductor asks of an agent, on ``<prefix>.agent.<hostname>``."""

    APPLY_CONFIG = "sysinv.agent.apply_config"
    #: On the broadcast: every agent registers again (after a conductor lost track).
    RESYNC = "sysinv.agent.resync"
