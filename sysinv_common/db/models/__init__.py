"""All tables; importing this module registers them on ``Base.metadata``."""

from sysinv_common.db.base import Base
from sysinv_common.db.models.app import (
    App,
    AppBundle,
    AppBundleChunk,
    AppChart,
    AppChartArchive,
    AppEvent,
    AppRelease,
    ChartArchive,
)
from sysinv_common.db.models.conductor import ConductorDuty, ConductorLease
from sysinv_common.db.models.drift import AppDrift
from sysinv_common.db.models.fault import Alarm, AlarmDelivery, AlarmSubscription, EventLog
from sysinv_common.db.models.host import Host, Label
from sysinv_common.db.models.secret import GeneratedSecret
from sysinv_common.db.models.service_parameter import ServiceParameter
from sysinv_common.db.models.storage_backend import StorageBackend
from sysinv_common.db.models.system import PlatformSettings, System

__all__ = [
    "Alarm",
    "AlarmDelivery",
    "AlarmSubscription",
    "App",
    "AppBundle",
    "AppBundleChunk",
    "AppChart",
    "AppChartArchive",
    "AppDrift",
    "AppEvent",
    "AppRelease",
    "Base",
    "ChartArchive",
    "ConductorDuty",
    "ConductorLease",
    "EventLog",
    "GeneratedSecret",
    "Host",
    "Label",
    "PlatformSettings",
    "ServiceParameter",
    "StorageBackend",
    "System",
]
