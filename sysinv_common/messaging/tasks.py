"""Names of the tasks an agent serves, on ``<prefix>.agent.<hostname>`` and the broadcast.

The conductor's own tasks are defined, typed, in ``sysinv_common.messaging.rpcapi``.
"""

from enum import StrEnum


class AgentTask(StrEnum):
    """What the conductor asks of an agent, on ``<prefix>.agent.<hostname>``."""

    APPLY_CONFIG = "sysinv.agent.apply_config"
    #: On the broadcast: every agent registers again (after a conductor lost track).
    RESYNC = "sysinv.agent.resync"
