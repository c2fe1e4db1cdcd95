"""Each host's desired configuration, its agent's reports, and availability.

The conductor computes what every node must look like from the model (docs/agents.md); a
change gets a new ``config_target`` and is sent to the host's agent, which answers with
``config_applied``. Registration and heartbeats keep inventory and availability current.

Every report is checked first, before the database is read: signed with the key of the
host it names (``sysinv_common.agent_proof``), sent recently, and by the agent that
consumes that host's queue.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

import bounded_yaml
from sysinv_common import agent_proof
from sysinv_common import alarms as fm_alarms
from sysinv_common.conf.ceph import CephClientSettings
from sysinv_common.conf.kubernetes import KubernetesSettings
from sysinv_common.db.models import Host, PlatformSettings
from sysinv_common.db.queries.system import get_platform_settings, host_config_inputs
from sysinv_common.errors import InvalidInput, InvalidState, KubeOperationFailed
from sysinv_common.messaging import rpcapi as rpc
from sysinv_common.messaging.app import agent_queue
from sysinv_common.messaging.rpcapi import Registered
from sysinv_common.messaging.tasks import AgentTask
from sysinv_common.nodeconfig import (
    CalicoConfig,
    CephConfig,
    ConfiguratorResult,
    DockerConfig,
    FloatingAddress,
    HostConfig,
    InitConfig,
    Inventory,
    JoinConfig,
    KubernetesConfig,
)
from sysinv_common.states import host as host_states
from sysinv_common.states.host import Administrative, Personality
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import alarms, ceph_formation
from sysinv_conductor.flows.docker_parameters import DockerParameters, docker_parameters
from sysinv_conductor.kube import init_config as kube_init
from sysinv_conductor.kube import join as kube_join
from sysinv_conductor.kube.control_plane import upload_certs

LOG = logging.getLogger(__name__)
JOIN_TOKEN_TTL = timedelta(hours=2)


_unreadable: set[str] = set()


def _read(path: str | None) -> str | None:
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        if path not in _unreadable:  # once, not at every audit of every host
            _unreadable.add(path)
            LOG.warning("cannot read %s for the node configuration: %s", path, exc.strerror)
        return None
    _unreadable.discard(path)
    return text


#: The cluster of the webhook kubeconfig, as kube-apiserver's logs name it.
AUTH_WEBHOOK_CLUSTER = "sysinv-keystone-webhook"


def auth_webhook_kubeconfig(url: str, ca_pem: bytes) -> str:
    """The kubeconfig of kube-apiserver's ``--authentication-token-webhook-config-file``:
    the webhook at ``url``, trusted with ``ca_pem`` alone; kube-apiserver presents no
    credential of its own to it."""
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": AUTH_WEBHOOK_CLUSTER, "cluster": {
            "server": url, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": "kube-apiserver", "user": {}}],
        "contexts": [{"name": "webhook", "context": {"cluster": AUTH_WEBHOOK_CLUSTER,
                                                     "user": "kube-apiserver"}}],
        "current-context": "webhook",
    }  # fmt: skip
    return bounded_yaml.dump(doc, sort_keys=False)


_webhook_warned: set[str] = set()


def _auth_webhook(kube: KubernetesSettings | None) -> str | None:
    """The webhook kubeconfig controllers get, or None: no webhook URL is set, or the
    platform CA (the cluster CA of the conductor's kubeconfig) cannot be read."""
    if kube is None or not kube.auth_webhook_url:
        return None
    if not kube.kubeconfig:
        reason = "kubernetes.kubeconfig is not set, so there is no platform CA to trust"
    else:
        try:
            ca = kube_join.kubeconfig_ca(kube.kubeconfig)
        except KubeOperationFailed as exc:
            reason = exc.message
        else:
            _webhook_warned.clear()
            return auth_webhook_kubeconfig(kube.auth_webhook_url, ca)
    if reason not in _webhook_warned:  # once, not at every audit of every host
        _webhook_warned.add(reason)
        LOG.warning("kubernetes.auth_webhook_url is set but no controller gets it: %s", reason)
    return None


@dataclass(frozen=True)
class Platform:
    """The platform settings every host's configuration shares, files read once."""

    settings: PlatformSettings
    registry_ca: str | None
    ceph_keyring: str | None
    #: The webhook kubeconfig of controllers' kube-apiserver; None: none is written.
    auth_webhook: str | None = None
    #: The ``docker`` service parameters (proxy, mirrors, the nodes' registry login).
    docker: DockerParameters = field(default_factory=DockerParameters)
    #: The active controller, whose configuration alone carries ``floating``.
    active_controller_id: int | None = None
    #: The floating cluster-host address; None when the endpoint is a DNS name.
    floating: FloatingAddress | None = None
    #: The Ceph cluster sysinv formed on the platform's hosts, if any.
    ceph_formed: ceph_formation.Formed | None = None


def platform(
    s: Session, kube: KubernetesSettings | None = None, fernet: Fernet | None = None,
    ceph: CephClientSettings | None = None,
) -> Platform:  # fmt: skip
    """``kube``: the conductor's Kubernetes settings; without them (a host leaving the
    cluster needs none) no webhook kubeconfig is computed. ``fernet``: the secrets key,
    without which the nodes' registry password and Ceph keys are left out. ``ceph``: the
    conductor's Ceph settings, without which a formed cluster's daemons are left out."""
    settings, active_id, backend = host_config_inputs(s)
    formed = (
        ceph_formation.formed_from(s, backend, fernet, ceph, settings.mgmt_subnet)
        if fernet and ceph
        else None
    )
    return Platform(
        settings, _read(settings.registry_ca_cert_file), _read(settings.ceph_keyring_path),
        _auth_webhook(kube), docker_parameters(s, fernet), active_id,
        kube_init.floating_on_interface(
            settings.kubernetes_api_endpoint, settings.cluster_host_subnet
        ),
        formed,
    )  # fmt: skip


def docker_config(settings: PlatformSettings, common: Platform) -> DockerConfig:
    params = common.docker
    mirror = params.mirrors.get("docker.io")
    # Docker's registry-mirrors serve Docker Hub only; a mirror without TLS must also be
    # named insecure, or the daemon refuses it.
    mirrors = [f"{'http' if mirror.insecure else 'https'}://{mirror.url}"] if mirror else []
    insecure = [mirror.url] if mirror and mirror.insecure else []
    login = bool(settings.registry_address and params.username and params.password)
    return DockerConfig(
        registry=settings.registry_address, registry_ca=common.registry_ca,
        registry_mirrors=mirrors, insecure_registries=insecure,
        http_proxy=params.http_proxy, https_proxy=params.https_proxy, no_proxy=params.no_proxy,
        registry_username=params.username if login else None,
        registry_password=params.password if login else None,
    )  # fmt: skip


def desired(host: Host, common: Platform) -> dict[str, Any]:
    """The host's configuration as the model says, without target or join credentials."""
    settings = common.settings
    ceph = None
    if common.ceph_formed is not None:
        ceph = common.ceph_formed.host_config(host.id)
    elif settings.ceph_monitors:
        ceph = CephConfig(
            fsid=settings.ceph_fsid, mon_host=list(settings.ceph_monitors),
            keyring=common.ceph_keyring,
        )  # fmt: skip
    config = HostConfig(
        target="",
        hostname=host.hostname,
        personality=host.personality,
        administrative=host.administrative,
        docker=docker_config(settings, common),
        kubernetes=KubernetesConfig(
            node_ip=host.mgmt_ip,
            labels={lb.label_key: lb.label_value for lb in host.labels},
            # Only a controller runs kube-apiserver.
            auth_webhook_kubeconfig=(
                common.auth_webhook if host.personality == Personality.CONTROLLER else None
            ),
        ),
        calico=CalicoConfig(
            node_name=host.hostname, ip_autodetection=f"cidr={settings.cluster_host_subnet}"
        ),
        ceph=ceph,
        # The active controller holds the floating address; a swact changes this for both
        # controllers, so both get a new target (the standby's agent removes it).
        floating_address=(
            common.floating
            if host.id == common.active_controller_id and host.personality == Personality.CONTROLLER
            else None
        ),
    )
    data = config.model_dump(mode="json")
    del data["target"]
    return data


def _digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class NewConfig:
    """A host's new configuration target as :func:`refresh_in` gave it: what its agent
    gets once the transaction committed (``push``), without reading anything again."""

    hostname: str
    data: dict[str, Any]
    target: str
    personality: str | None
    unlocked: bool
    #: Its agent ever reported. One that never did gets its configuration in the answer
    #: to its registration: nothing is queued for it meanwhile.
    registered: bool = True


def refresh_in(
    s: Session, ctx: ConductorContext, hosts: Sequence[Host], common: Platform | None = None
) -> list[NewConfig]:
    """In the caller's transaction: every one of ``hosts`` whose desired configuration
    changed gets a new target. ``hosts`` come with their labels loaded
    (``selectinload``), ``common`` read once (or read here): a whole refresh costs the
    same few statements whatever the number of hosts."""
    if not hosts:
        return []
    common = common or platform(s, ctx.settings.kubernetes, ctx.secrets.fernet, ctx.settings.ceph)
    now = datetime.now(UTC)
    wanted: dict[int, dict[str, Any]] = {}
    targets: list[host_states.NewTarget] = []
    for host in hosts:
        data = desired(host, common)
        digest = _digest(data)
        if digest != host.config_digest:
            wanted[host.id] = data
            targets.append(host_states.NewTarget(host, digest, str(uuid.uuid4())))
    lost = host_states.give_targets(s, targets, now)
    for host in lost:  # another write landed in between (rare): one at a time, as it is now
        data = desired(host, common)
        digest = _digest(data)
        if digest == host.config_digest:
            del wanted[host.id]
            continue
        wanted[host.id] = data
        again = host_states.give_targets(
            s, [host_states.NewTarget(host, digest, str(uuid.uuid4()))], now
        )
        if again:
            raise InvalidState(f"Host {host.hostname} kept changing state meanwhile; try again")
    return [
        NewConfig(h.hostname, wanted[h.id], h.config_target or "", h.personality,
                  h.administrative == Administrative.UNLOCKED, h.last_seen_at is not None)
        for h in hosts if h.id in wanted
    ]  # fmt: skip


def refresh(
    ctx: ConductorContext, host_ids: Iterable[int] | None = None, push: bool = True
) -> list[str]:
    """Give every host whose desired configuration changed a new target, and send it
    (``push=False``: the caller hands it over itself)."""
    with ctx.db.session() as s:
        query = select(Host).options(selectinload(Host.labels)).order_by(Host.id)
        if host_ids is not None:
            query = query.where(Host.id.in_(list(host_ids)))
        changed = refresh_in(s, ctx, s.scalars(query).all())
    if push:
        push_configs(ctx, changed)
    if changed:
        LOG.info("new configuration for %s", ", ".join(c.hostname for c in changed))
    return [c.hostname for c in changed]


def push_configs(ctx: ConductorContext, changed: Iterable[NewConfig]) -> None:
    """Send each new target (committed) to its host's agent, from what ``refresh_in``
    computed: nothing is read again."""
    if ctx.agents is None:
        return
    for new in changed:
        if not new.registered:
            continue
        config = _with_join(ctx, new)
        ctx.agents.cast(new.hostname, AgentTask.APPLY_CONFIG, config=config.model_dump(mode="json"))


def _with_join(ctx: ConductorContext, new: NewConfig) -> HostConfig:
    """The configuration to send, join credentials included when the host needs them."""
    config = HostConfig.model_validate({**new.data, "target": new.target})
    hostname, personality = new.hostname, new.personality
    if new.unlocked and personality and ctx.kube.enabled and not ctx.kube.node_exists(hostname):
        if kube_init.bootstraps_cluster(hostname, personality, ctx.kube.has_nodes):
            init = _init(ctx, config.kubernetes.node_ip)
            update: dict[str, Any] = {"init": init} if init is not None else {}
        else:
            join = _join(ctx, hostname, personality, config.kubernetes.node_ip)
            update = {"join": join} if join is not None else {}
        if update:
            config = config.model_copy(
                update={"kubernetes": config.kubernetes.model_copy(update=update)}
            )
    return config


def _init(ctx: ConductorContext, node_ip: str | None) -> InitConfig | None:
    """kubeadm init's facts for the controller that creates the cluster (see
    ``sysinv_conductor.kube.init_config``); None, with a warning, without its address."""
    if not node_ip:
        LOG.warning("%s cannot create the cluster: it has no mgmt address",
                    kube_init.BOOTSTRAP_CONTROLLER)  # fmt: skip
        return None
    with ctx.db.session() as s:
        settings = get_platform_settings(s)
        controllers = s.scalars(
            select(Host.mgmt_ip)
            .where(Host.personality == Personality.CONTROLLER.value, Host.mgmt_ip.is_not(None))
            .order_by(Host.hostname)
        ).all()
        floating = kube_init.floating_address(
            settings.kubernetes_api_endpoint, settings.cluster_host_subnet
        )
        return kube_init.init_config(
            kubernetes_version=ctx.settings.kubernetes.version, floating=floating,
            advertise_address=node_ip, controller_addresses=[c for c in controllers if c],
            pod_subnet=settings.pod_subnet, service_subnet=settings.service_subnet,
        )  # fmt: skip


def current_config(ctx: ConductorContext, hostname: str) -> HostConfig | None:
    """What the host's agent must apply now, join credentials included when it needs them."""
    with ctx.db.session() as s:
        query = select(Host).options(selectinload(Host.labels)).where(Host.hostname == hostname)
        host = s.scalars(query).first()
        if host is None or not host.config_target:
            return None
        data = desired(
            host, platform(s, ctx.settings.kubernetes, ctx.secrets.fernet, ctx.settings.ceph)
        )
        new = NewConfig(hostname, data, host.config_target, host.personality,
                        host.administrative == Administrative.UNLOCKED)  # fmt: skip
    return _with_join(ctx, new)


def _join(
    ctx: ConductorContext, hostname: str, personality: str, node_ip: str | None
) -> JoinConfig | None:
    """A fresh bootstrap token and the CA pin; for a controller also a control-plane join:
    the cluster's certificates uploaded anew with a fresh certificate key (only this
    host's configuration carries it) and its mgmt address to advertise."""
    api = ctx.kube_api
    assert api is not None  # only asked for when ctx.kube is enabled, i.e. has a cluster
    control_plane = personality == Personality.CONTROLLER
    try:
        facts = kube_join.cluster_join_facts(api, ctx.settings.kubernetes.kubeconfig)
        token = kube_join.create_bootstrap_token(api, JOIN_TOKEN_TTL, f"sysinv join of {hostname}")
        key = upload_certs(api, ctx.settings.kubernetes.pki_dir) if control_plane else None
    except Exception as exc:
        LOG.warning("host %s: cannot prepare its cluster join: %s", hostname, exc)
        return None
    return JoinConfig(
        api_endpoint=facts.api_endpoint, token=token, ca_cert_hashes=[facts.ca_cert_hash],
        control_plane=control_plane, certificate_key=key,
        advertise_address=node_ip if control_plane else None,
    )  # fmt: skip


def leave_config(s: Session, host: Host) -> dict[str, Any]:
    """The configuration that makes a deleted host's node leave the cluster."""
    data = desired(host, platform(s))
    data["kubernetes"]["leave"] = True
    data["floating_address"] = None  # a node leaving the cluster gives it up
    data["target"] = str(uuid.uuid4())
    return HostConfig.model_validate(data).model_dump(mode="json")


def forget_expired_tokens(ctx: ConductorContext) -> int:
    """Expired bootstrap tokens go, as Kubernetes' token cleaner would remove them."""
    if ctx.kube_api is None:
        return 0
    return kube_join.delete_expired_tokens(ctx.kube_api)


def send(ctx: ConductorContext, hostname: str) -> None:
    if ctx.agents is None:
        return
    config = current_config(ctx, hostname)
    if config is None:
        return
    ctx.agents.cast(hostname, AgentTask.APPLY_CONFIG, config=config.model_dump(mode="json"))


def _accept(
    ctx: ConductorContext, method: rpc.Method[Any, Any], hostname: str, report: rpc.AgentReport,
    queue: str,
) -> None:  # fmt: skip
    """Refuse a report not signed by ``hostname``'s key, stale, or not from its agent."""
    key = ctx.agent_keys.key(hostname)
    agent_proof.verify(key, method.name, hostname, report.signed_fields(), report.proof)
    # An agent reports only for its own host: the one whose queue it consumes.
    if queue != agent_queue(ctx.settings.messaging, hostname):
        raise InvalidInput(f"Refused: a report for {hostname} came from the agent of {queue}")


def register(ctx: ConductorContext, report: rpc.AgentRegister) -> Registered:
    """An agent started: find (or create) its host, record inventory, answer its config."""
    try:
        inv = Inventory.model_validate(report.inventory)
    except ValidationError as exc:
        raise InvalidInput(f"Refused: invalid inventory: {exc.errors()[0]['msg']}") from None
    _accept(ctx, rpc.AGENT_REGISTER, inv.hostname, report, report.queue)
    now = datetime.now(UTC)
    with ctx.db.session() as s:
        host = _match(s, inv)
        discovered = host is None
        if host is None:
            host = host_states.new_host(hostname=inv.hostname, personality=None)
            s.add(host)
            LOG.info("host %s registered by its agent (new, personality unset)", inv.hostname)
        host.mgmt_mac = host.mgmt_mac or inv.mgmt_mac
        host.mgmt_ip = host.mgmt_ip or inv.mgmt_ip
        host.inventory = inv.model_dump(mode="json")
        host_states.mark_seen(s, host, now)
        s.flush()
        host_id, host_uuid = host.id, host.uuid
        alarms.host_back(s, inv.hostname)
        if discovered:
            alarms.customer_log(s, fm_alarms.host_discovered(inv.hostname))
    refresh(ctx, [host_id], push=False)  # the answer carries it
    config = current_config(ctx, inv.hostname)
    return Registered(
        host_uuid=host_uuid, config=config.model_dump(mode="json") if config else None
    )


def _match(s: Session, inv: Inventory) -> Host | None:
    conditions = [Host.hostname == inv.hostname]
    if inv.mgmt_mac:
        conditions.append(Host.mgmt_mac == inv.mgmt_mac)
    found = s.scalars(select(Host).where(or_(*conditions))).all()
    for host in found:
        if host.hostname != inv.hostname:
            raise InvalidInput(
                f"Refused: the agent of {inv.hostname} reports MAC {inv.mgmt_mac}, which "
                f"belongs to host {host.hostname}"
            )
    return found[0] if found else None


def heartbeat(ctx: ConductorContext, report: rpc.AgentHeartbeat) -> None:
    hostname, applied = report.hostname, report.applied
    _accept(ctx, rpc.AGENT_HEARTBEAT, hostname, report, report.queue)
    with ctx.db.session() as s:
        host = s.scalars(select(Host).where(Host.hostname == hostname)).first()
        if host is None:
            raise InvalidInput(f"Refused: host {hostname} is not registered")
        came_back = host_states.mark_seen(s, host, datetime.now(UTC))
        if came_back:
            alarms.host_back(s, hostname)
        if applied and applied == host.config_target and host.config_applied != applied:
            # It applied the target but its report was lost (the agent died right after):
            # the heartbeat says so, and only fully applied targets are ever reported.
            host_states.record_config_applied(s, host, applied, None)
        behind = (
            bool(host.config_target)
            and applied != host.config_target
            and not (host.config_error and applied == host.config_applied)
        )
    if came_back:
        LOG.info("host %s is back online", hostname)
    if behind:
        send(ctx, hostname)


def config_applied(ctx: ConductorContext, report: rpc.AgentConfigApplied) -> None:
    hostname, target = report.hostname, report.target
    _accept(ctx, rpc.AGENT_CONFIG_APPLIED, hostname, report, report.queue)
    outcome = [ConfiguratorResult.model_validate(r) for r in report.results]
    failed = [f"{r.name}: {r.message}" for r in outcome if not r.ok]
    error = "; ".join(failed) if failed else None
    with ctx.db.session() as s:
        host = s.scalars(select(Host).where(Host.hostname == hostname)).first()
        if host is None:
            raise InvalidInput(f"Refused: host {hostname} is not registered")
        host_states.record_config_applied(s, host, target, error)
        host_states.mark_seen(s, host, datetime.now(UTC))
        stale = target != host.config_target
        if host.config_applied == host.config_target:
            alarms.config_current(s, hostname)
    if error:
        LOG.warning("host %s: configuration %s failed: %s", hostname, target, error)
    else:
        LOG.info("host %s: configuration %s applied", hostname, target)
    if stale:
        send(ctx, hostname)


def mark_offline(ctx: ConductorContext, timeout: float) -> list[str]:
    with ctx.db.session() as s:
        gone = host_states.mark_offline(s, datetime.now(UTC) - timedelta(seconds=timeout)).offline
    for hostname in gone:
        LOG.warning("host %s is offline: no report from its agent for %.0f s", hostname, timeout)
    return gone
