"""The conductor's API: one typed method per task, the only way to reach the conductor.

Every task is a :class:`Method`: its Celery name, a pydantic request model, a pydantic
answer model (``None`` for a cast nobody waits on) and the queue it travels on. The
senders (API, agents, the conductor itself) go through :class:`ConductorAPI`; the
conductor builds its task table from :data:`METHODS`, so a task cannot exist on one side
only. On the wire a request is its model's JSON, one positional argument, carrying
``rpc_version``: a conductor refuses a message of another major version instead of
guessing at its fields.

Two queues: ``<prefix>.conductor`` for calls that answer within seconds, and
``<prefix>.conductor.apps`` for application operations, which run for minutes and must
never hold up a label assign.

An agent's reports (:class:`AgentReport`) are signed with its host's key
(``sysinv_common.agent_proof``): a :class:`ConductorAPI` built with ``agent_key`` signs
them, and the conductor refuses one whose proof is not that of the host it names.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from sysinv_common import agent_proof
from sysinv_common.messaging.app import Lane
from sysinv_common.messaging.client import ConductorClient

#: Bumped in its minor part for additive changes (a new optional field, a new method),
#: in its major part when an old sender's message would be misread.
#: 1.1: agent reports carry ``sent_at`` and ``proof``.
#: 1.2: an apply may carry a ``mode`` (application-apply -m).
#: 1.3: fault management (alarm delete, alarm webhook subscriptions); the local
#: registry's images (list, tags, delete, garbage collection); service parameters (add,
#: modify, delete, apply).
#: 1.4: a label assign may name its host as the user did (``LabelsAssign.host``).
#: 1.5: storage backends (add, modify, delete, Ceph status); ``host_swact`` (host-swact);
#: ``app_plan``: what an apply, remove or update would change, computed without changing
#: anything.
RPC_VERSION = "1.5"


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rpc_version: str = RPC_VERSION


class Empty(Message):
    pass


# -- requests and answers ------------------------------------------------------------------


class Pong(Message):
    conductor_id: str


class HostRef(Message):
    host_id: int


class HostAction(Message):
    host_id: int
    action: str


class NodeSync(Message):
    """How the host's Kubernetes Node was brought in line (the host's ``kube_node``)."""

    kube_node: str


class Swacted(Message):
    """The controller a host-swact made active."""

    active: str


class LabelsAssign(Message):
    """One of ``host_id`` and ``host`` (1.4: the host's id, uuid or hostname as the user
    named it; the conductor finds it, and refuses an unknown one)."""

    host_id: int | None = None
    host: str | None = None
    labels: dict[str, str]
    overwrite: bool = False


class LabelRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    uuid: str
    label_key: str
    label_value: str
    host_uuid: str


class LabelsAssigned(Message):
    labels: list[LabelRow]
    kube_node: str


class LabelRemove(Message):
    label_uuid: str


class Drift(BaseModel):
    model_config = ConfigDict(frozen=True)

    hostname: str
    changed: dict[str, str] = Field(default_factory=dict)
    removed: list[str] = Field(default_factory=list)


class LabelAudit(Message):
    drift: list[Drift]


class AppApply(Message):
    name: str
    #: ``application-apply -m MODE``: one of the modes the app's metadata.yaml declares
    #: (``behavior.apply_modes``); None: no mode.
    mode: str | None = None


class AppDelete(Message):
    name: str
    force: bool = False


class AppStarted(Message):
    """An operation is under way (or was refused before this answer): the app's row id."""

    app_id: int


class AppJob(Message):
    """A long operation on the apps queue, run under the lease reserved under ``token``."""

    app_id: int
    token: str
    #: Apply only: each chart document's values as the apply call generated and checked
    #: them, generated secrets as ``{"$secret": name}`` references (never their values).
    values: dict[str, dict[str, Any]] | None = None
    #: Apply only: the mode the apply call accepted (see ``AppApply``).
    mode: str | None = None


class AppPlanRequest(Message):
    """``application-apply|remove|update --dry-run``: plan ``operation`` of app ``name``."""

    name: str
    #: apply | remove | update
    operation: str
    #: Update only: the new version's bundle, a path under the import directories of the
    #: conductor's host or a URL of an allowed host (as ``application-update`` names it).
    tarfile: str | None = None
    #: Update only: as ``application-update --reuse-user-overrides|--reuse-attributes``
    #: (None: the new bundle's metadata decides).
    reuse_user_overrides: bool | None = None
    reuse_attributes: bool | None = None


class PlanValueChange(BaseModel):
    """A key path of a chart's values that the operation changes (secrets masked)."""

    model_config = ConfigDict(frozen=True)

    path: str
    #: Who sets the key now: user (helm-override-update), system (the override plugins),
    #: chart (the application's chart document); for a key removed, who set it before.
    source: str
    #: added | removed | changed
    change: str
    old: Any = None
    new: Any = None


class PlanFieldChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    old: Any = None
    new: Any = None


class PlanObjectChange(BaseModel):
    """A Kubernetes object the operation adds, removes or changes (field by field)."""

    model_config = ConfigDict(frozen=True)

    api_version: str
    kind: str
    namespace: str
    name: str
    #: added | removed | changed
    change: str
    fields: list[PlanFieldChange] = Field(default_factory=list)


class ChartPlan(BaseModel):
    """One chart's release, in the order the operation would run them."""

    model_config = ConfigDict(frozen=True)

    chart: str
    release: str
    namespace: str
    #: install | upgrade | unchanged | remove
    action: str
    #: Why a release is removed (``disabled``, ``remove``), else None.
    reason: str | None = None
    deployed_revision: int | None = None
    deployed_chart_version: str | None = None
    chart_version: str | None = None
    overrides: list[PlanValueChange] = Field(default_factory=list)
    objects: list[PlanObjectChange] = Field(default_factory=list)


class AppPlan(Message):
    """What an operation would do, chart by chart; computed without changing anything."""

    name: str
    operation: str
    app_version: str
    #: Update only: the version the update would deploy.
    target_version: str | None = None
    charts: list[ChartPlan] = Field(default_factory=list)


class ChartRef(Message):
    app_name: str
    chart: str
    namespace: str


class ChartShow(ChartRef):
    show_secrets: bool = False


class ChartOverrides(Message):
    name: str
    namespace: str
    attributes: str | None = None
    system_overrides: str | None = None
    user_overrides: str | None = None
    combined_overrides: str | None = None
    system_overrides_note: str | None = None


class ChartUpdate(ChartRef):
    flags: dict[str, bool] = Field(default_factory=dict)
    files: list[str] = Field(default_factory=list)
    sets: list[str] = Field(default_factory=list)
    enabled: bool | None = None


class ChartUpdated(Message):
    name: str
    namespace: str
    user_overrides: str | None = None
    attributes: dict[str, bool] | None = None


class AgentReport(Message):
    """What an agent sends about its host, signed with that host's key: ``proof`` is
    ``agent_proof.sign`` over the method's name and every other field, ``sent_at``
    (UNIX time, seconds) included. Unsigned (the defaults), it is refused."""

    sent_at: int = 0
    proof: str = ""

    def signed_fields(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"proof"})


class AgentRegister(AgentReport):
    queue: str
    inventory: dict[str, Any]


class Registered(Message):
    host_uuid: str
    config: dict[str, Any] | None = None


class AgentHeartbeat(AgentReport):
    hostname: str
    queue: str
    applied: str | None = None


class AgentConfigApplied(AgentReport):
    hostname: str
    queue: str
    target: str
    results: list[dict[str, Any]]


class AlarmRef(Message):
    uuid: str


class SubscriptionAdd(Message):
    url: str
    secret: str


class SubscriptionRow(Message):
    uuid: str
    url: str
    created_at: str


class SubscriptionRef(Message):
    uuid: str


class SubscriptionSecret(Message):
    secret: str


class RegistryImageQuery(Message):
    #: None: the repositories; a name: that repository's tags.
    image_name: str | None = None
    filter_out_untagged: bool = False


class RegistryImage(BaseModel):
    name: str
    tag: str | None = None


class RegistryImages(Message):
    images: list[RegistryImage]


class RegistryImageDelete(Message):
    image_name_and_tag: str


class GarbageCollected(Message):
    #: What the registry's storage held before and after, in bytes.
    bytes_before: int
    bytes_after: int


class ServiceParameterSection(BaseModel):
    """Parameters of one section, as a user adds them (the API's body too)."""

    service: str
    section: str
    parameters: dict[str, str]
    personality: str | None = None
    resource: str | None = None


class ServiceParameterAdd(ServiceParameterSection, Message):
    pass


class ServiceParameterRow(BaseModel):
    """As answered: a secret's value is masked."""

    uuid: str
    service: str
    section: str
    name: str
    value: str
    personality: str | None = None
    resource: str | None = None


class ServiceParameters(Message):
    parameters: list[ServiceParameterRow]


class ServiceParameterModify(Message):
    uuid: str
    #: Only the value may change (StarlingX's client sends the name it already has).
    value: str
    personality: str | None = None
    resource: str | None = None


class ServiceParameterRef(Message):
    uuid: str


class ServiceApply(Message):
    service: str


class StorageBackendAdd(Message):
    #: ``ceph`` (the platform-managed cluster) or ``ceph-external``.
    backend: str
    name: str | None = None
    services: str | None = None
    #: ``ceph-external`` only: its monitors (host:port), fsid and the path of a file on the
    #: controllers holding its client.admin keyring (read when needed, never stored).
    monitors: list[str] = Field(default_factory=list)
    fsid: str | None = None
    keyring_path: str | None = None


class StorageBackendRow(Message):
    uuid: str
    name: str
    backend: str
    state: str
    #: StarlingX's ``task``: what the backend is doing (None when nothing).
    task: str | None = None
    #: Why the last configuration failed.
    reason: str | None = None
    services: str | None = None
    capabilities: dict[str, Any] = Field(default_factory=dict)
    monitors: list[str] = Field(default_factory=list)
    fsid: str | None = None
    keyring_path: str | None = None
    created_at: str
    updated_at: str | None = None


class StorageBackendModify(Message):
    uuid: str
    services: str | None = None
    monitors: list[str] | None = None
    fsid: str | None = None
    keyring_path: str | None = None


class StorageBackendRef(Message):
    uuid: str


class CephHealth(Message):
    fsid: str
    health: str
    checks: dict[str, str] = Field(default_factory=dict)
    total_bytes: int
    used_bytes: int
    avail_bytes: int
    osds: int
    osds_up: int


# -- the methods -----------------------------------------------------------------------------

Req = TypeVar("Req", bound=Message)
Report = TypeVar("Report", bound=AgentReport)
Ans = TypeVar("Ans", bound=Message)


@dataclass(frozen=True)
class Method(Generic[Req, Ans]):
    name: str
    request: type[Req]
    answer: type[Ans] | None
    lane: Lane = Lane.CALLS

    @property
    def task(self) -> str:
        return f"sysinv.conductor.{self.name}"


PING = Method("ping", Empty, Pong)
HOST_SYNC = Method("host_sync", HostRef, NodeSync)
HOST_ACTION = Method("host_action", HostAction, NodeSync)
HOST_DELETE = Method("host_delete", HostRef, NodeSync)
HOST_SWACT = Method("host_swact", HostRef, Swacted)
LABELS_ASSIGN = Method("labels_assign", LabelsAssign, LabelsAssigned)
LABEL_REMOVE = Method("label_remove", LabelRemove, NodeSync)
LABEL_AUDIT = Method("label_audit", Empty, LabelAudit)
APP_APPLY = Method("app_apply", AppApply, AppStarted)
APP_DELETE = Method("app_delete", AppDelete, Empty)
APP_PLAN = Method("app_plan", AppPlanRequest, AppPlan)
HELM_CHART_SHOW = Method("helm_chart_show", ChartShow, ChartOverrides)
HELM_CHART_UPDATE = Method("helm_chart_update", ChartUpdate, ChartUpdated)
REGISTRY_IMAGES = Method("registry_images", RegistryImageQuery, RegistryImages)
REGISTRY_IMAGE_DELETE = Method("registry_image_delete", RegistryImageDelete, Empty)
REGISTRY_GARBAGE_COLLECT = Method("registry_garbage_collect", Empty, GarbageCollected)
SERVICE_PARAMETER_ADD = Method("service_parameter_add", ServiceParameterAdd, ServiceParameters)
SERVICE_PARAMETER_MODIFY = Method(
    "service_parameter_modify", ServiceParameterModify, ServiceParameters
)
SERVICE_PARAMETER_DELETE = Method("service_parameter_delete", ServiceParameterRef, Empty)
SERVICE_PARAMETER_APPLY = Method("service_parameter_apply", ServiceApply, Empty)
STORAGE_BACKEND_ADD = Method("storage_backend_add", StorageBackendAdd, StorageBackendRow)
STORAGE_BACKEND_MODIFY = Method("storage_backend_modify", StorageBackendModify, StorageBackendRow)
STORAGE_BACKEND_DELETE = Method("storage_backend_delete", StorageBackendRef, Empty)
STORAGE_BACKEND_HEALTH = Method("storage_backend_health", StorageBackendRef, CephHealth)
AGENT_REGISTER = Method("agent_register", AgentRegister, Registered)
AGENT_HEARTBEAT: Method[AgentHeartbeat, Empty] = Method("agent_heartbeat", AgentHeartbeat, None)
AGENT_CONFIG_APPLIED: Method[AgentConfigApplied, Empty] = Method(
    "agent_config_applied", AgentConfigApplied, None
)
ALARM_DELETE = Method("alarm_delete", AlarmRef, Empty)
ALARM_SUBSCRIBE = Method("alarm_subscribe", SubscriptionAdd, SubscriptionRow)
ALARM_UNSUBSCRIBE = Method("alarm_unsubscribe", SubscriptionRef, Empty)
ALARM_SUBSCRIPTION_SECRET = Method("alarm_subscription_secret", SubscriptionRef, SubscriptionSecret)
# The long operations: cast to the apps queue, acknowledged when they end.
APP_UPLOAD_JOB: Method[AppJob, Empty] = Method("app_upload", AppJob, None, Lane.APPS)
APP_APPLY_JOB: Method[AppJob, Empty] = Method("app_apply_job", AppJob, None, Lane.APPS)
APP_REMOVE_JOB: Method[AppJob, Empty] = Method("app_remove", AppJob, None, Lane.APPS)
APP_UPDATE_JOB: Method[AppJob, Empty] = Method("app_update", AppJob, None, Lane.APPS)

METHODS: tuple[Method[Any, Any], ...] = (
    PING, HOST_SYNC, HOST_ACTION, HOST_DELETE, HOST_SWACT, LABELS_ASSIGN, LABEL_REMOVE,
    LABEL_AUDIT, APP_APPLY, APP_DELETE, APP_PLAN, HELM_CHART_SHOW, HELM_CHART_UPDATE,
    REGISTRY_IMAGES, REGISTRY_IMAGE_DELETE, REGISTRY_GARBAGE_COLLECT,
    SERVICE_PARAMETER_ADD, SERVICE_PARAMETER_MODIFY, SERVICE_PARAMETER_DELETE,
    SERVICE_PARAMETER_APPLY,
    STORAGE_BACKEND_ADD, STORAGE_BACKEND_MODIFY, STORAGE_BACKEND_DELETE, STORAGE_BACKEND_HEALTH,
    AGENT_REGISTER, AGENT_HEARTBEAT, AGENT_CONFIG_APPLIED,
    APP_UPLOAD_JOB, APP_APPLY_JOB, APP_REMOVE_JOB, APP_UPDATE_JOB,
    ALARM_DELETE, ALARM_SUBSCRIBE, ALARM_UNSUBSCRIBE, ALARM_SUBSCRIPTION_SECRET,
)  # fmt: skip


def major(version: str) -> str:
    return version.split(".", 1)[0]


class ConductorAPI:
    """What a sender may ask of the conductor, typed end to end."""

    def __init__(self, client: ConductorClient, agent_key: bytes | None = None) -> None:
        self.client = client
        #: The host key an agent's reports are signed with (agents only).
        self.agent_key = agent_key

    def _signed(self, method: Method[Report, Any], **fields: Any) -> Report:
        if self.agent_key is None:
            raise RuntimeError("agent reports need the host's key: ConductorAPI(agent_key=...)")
        unsigned = method.request(sent_at=int(time.time()), **fields)
        proof = agent_proof.sign(self.agent_key, method.name, unsigned.signed_fields())
        return unsigned.model_copy(update={"proof": proof})

    def _call(self, method: Method[Req, Ans], request: Req, timeout: float | None = None) -> Ans:
        assert method.answer is not None, f"{method.name} is a cast"
        raw = self.client.call(method.task, request.model_dump(mode="json"), timeout=timeout)
        return method.answer.model_validate(raw)

    def _cast(self, method: Method[Req, Any], request: Req) -> None:
        self.client.cast(method.task, request.model_dump(mode="json"), lane=method.lane)

    # hosts and labels
    def ping(self, timeout: float | None = None) -> Pong:
        return self._call(PING, Empty(), timeout)

    def host_sync(self, host_id: int) -> None:
        self._cast(HOST_SYNC, HostRef(host_id=host_id))

    def host_action(self, host_id: int, action: str) -> NodeSync:
        return self._call(HOST_ACTION, HostAction(host_id=host_id, action=action))

    def host_delete(self, host_id: int) -> NodeSync:
        return self._call(HOST_DELETE, HostRef(host_id=host_id))

    def host_swact(self, host_id: int) -> Swacted:
        """Make the other controller active; InvalidState/InvalidInput say why not."""
        return self._call(HOST_SWACT, HostRef(host_id=host_id))

    def labels_assign(
        self, host: int | str, labels: dict[str, str], overwrite: bool
    ) -> LabelsAssigned:
        """``host``: its id, or (a str) its id, uuid or hostname as the user named it: the
        conductor finds it in the transaction that writes the labels."""
        ref = {"host_id": host} if isinstance(host, int) else {"host": host}
        return self._call(LABELS_ASSIGN, LabelsAssign(**ref, labels=labels, overwrite=overwrite))

    def label_remove(self, label_uuid: str) -> NodeSync:
        return self._call(LABEL_REMOVE, LabelRemove(label_uuid=label_uuid))

    def label_audit(self) -> LabelAudit:
        return self._call(LABEL_AUDIT, Empty())

    # applications
    def app_apply(self, name: str, mode: str | None = None) -> AppStarted:
        """Check, start and queue an apply: refusals come back here, not as apply-failed."""
        return self._call(APP_APPLY, AppApply(name=name, mode=mode))

    def app_delete(self, name: str, force: bool) -> None:
        self._call(APP_DELETE, AppDelete(name=name, force=force))

    def app_plan(self, request: AppPlanRequest, timeout: float | None = None) -> AppPlan:
        """What ``request.operation`` (apply | remove | update) of an app would change,
        per chart in execution order; read-only (no release revision, secret, row or
        object is written). InvalidInput for an unknown operation or app, or a bundle
        that cannot be read; KubeOperationFailed when helm cannot read or render."""
        return self._call(APP_PLAN, request, timeout)

    def app_job(self, method: Method[AppJob, Any], app_id: int, token: str) -> None:
        """Queue a long operation the caller started under ``token``."""
        assert method.lane is Lane.APPS
        self._cast(method, AppJob(app_id=app_id, token=token))

    def app_apply_job(self, job: AppJob) -> None:
        self._cast(APP_APPLY_JOB, job)

    # helm overrides
    def helm_chart_show(self, request: ChartShow) -> ChartOverrides:
        return self._call(HELM_CHART_SHOW, request)

    def helm_chart_update(self, request: ChartUpdate) -> ChartUpdated:
        return self._call(HELM_CHART_UPDATE, request)

    # fault management
    def alarm_delete(self, uuid: str) -> None:
        self._call(ALARM_DELETE, AlarmRef(uuid=uuid))

    def alarm_subscribe(self, url: str, secret: str) -> SubscriptionRow:
        return self._call(ALARM_SUBSCRIBE, SubscriptionAdd(url=url, secret=secret))

    def alarm_unsubscribe(self, uuid: str) -> None:
        self._call(ALARM_UNSUBSCRIBE, SubscriptionRef(uuid=uuid))

    def alarm_subscription_secret(self, uuid: str) -> SubscriptionSecret:
        return self._call(ALARM_SUBSCRIPTION_SECRET, SubscriptionRef(uuid=uuid))

    # agents: signed with agent_key
    # the local registry
    def registry_images(
        self, image_name: str | None = None, filter_out_untagged: bool = False
    ) -> RegistryImages:
        query = RegistryImageQuery(image_name=image_name, filter_out_untagged=filter_out_untagged)
        return self._call(REGISTRY_IMAGES, query)

    def registry_image_delete(self, image_name_and_tag: str) -> None:
        self._call(
            REGISTRY_IMAGE_DELETE, RegistryImageDelete(image_name_and_tag=image_name_and_tag)
        )

    def registry_garbage_collect(self, timeout: float | None = None) -> GarbageCollected:
        return self._call(REGISTRY_GARBAGE_COLLECT, Empty(), timeout)

    # service parameters
    def service_parameter_add(self, request: ServiceParameterAdd) -> ServiceParameters:
        return self._call(SERVICE_PARAMETER_ADD, request)

    def service_parameter_modify(self, request: ServiceParameterModify) -> ServiceParameters:
        return self._call(SERVICE_PARAMETER_MODIFY, request)

    def service_parameter_delete(self, uuid: str) -> None:
        self._call(SERVICE_PARAMETER_DELETE, ServiceParameterRef(uuid=uuid))

    def service_parameter_apply(self, service: str) -> None:
        self._call(SERVICE_PARAMETER_APPLY, ServiceApply(service=service))

    # storage backends: configuration talks to Ceph within its connect/op timeouts
    def storage_backend_add(self, request: StorageBackendAdd) -> StorageBackendRow:
        """Create the backend and configure it; answers it ``configured`` or ``failed``."""
        return self._call(STORAGE_BACKEND_ADD, request)

    def storage_backend_modify(self, request: StorageBackendModify) -> StorageBackendRow:
        return self._call(STORAGE_BACKEND_MODIFY, request)

    def storage_backend_delete(self, uuid: str) -> None:
        self._call(STORAGE_BACKEND_DELETE, StorageBackendRef(uuid=uuid))

    def storage_backend_health(self, uuid: str) -> CephHealth:
        return self._call(STORAGE_BACKEND_HEALTH, StorageBackendRef(uuid=uuid))

    def agent_register(self, queue: str, inventory: dict[str, Any]) -> Registered:
        return self._call(AGENT_REGISTER, self._signed(AGENT_REGISTER, queue=queue,
                                                       inventory=inventory))  # fmt: skip

    def agent_heartbeat(self, hostname: str, queue: str, applied: str | None) -> None:
        self._cast(AGENT_HEARTBEAT, self._signed(AGENT_HEARTBEAT, hostname=hostname,
                                                 queue=queue, applied=applied))  # fmt: skip

    def agent_config_applied(
        self, hostname: str, queue: str, target: str, results: list[dict[str, Any]]
    ) -> None:
        self._cast(
            AGENT_CONFIG_APPLIED,
            self._signed(AGENT_CONFIG_APPLIED, hostname=hostname, queue=queue, target=target,
                         results=results),
        )  # fmt: skip
