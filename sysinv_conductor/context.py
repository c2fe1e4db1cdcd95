"""What every conductor task needs, built once per conductor process."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client import ApiClient

from sysinv_common.agent_proof import HostKeys
from sysinv_common.conf import Settings
from sysinv_common.db.engine import Database
from sysinv_common.messaging.agents import AgentClient
from sysinv_common.messaging.rpcapi import ConductorAPI
from sysinv_common.registry_token import SigningKeyFile
from sysinv_conductor.kube.client import api_client
from sysinv_conductor.kube.nodes import KubeNodes
from sysinv_conductor.overrides.generate import OverrideGenerator
from sysinv_conductor.overrides.secrets import SecretStore


@dataclass
class ConductorContext:
    settings: Settings
    db: Database
    #: The one Kubernetes client of this conductor (settings.kubernetes.kubeconfig), shared
    #: by node sync, deploys, join and Calico; None when no cluster is configured.
    kube_api: ApiClient | None
    kube: KubeNodes
    conductor_id: str
    #: The host this conductor runs on (settings.conductor.host): the active controller's
    #: conductor runs the periodic audits.
    conductor_host: str
    overrides: OverrideGenerator
    secrets: SecretStore
    #: Each host's key, which its agent's reports must be signed with.
    agent_keys: HostKeys
    #: The key the local registry's tokens are signed with (sysinv-api's token endpoint
    #: signs with the same file): read once, on the first image pushed or listed.
    registry_key: SigningKeyFile
    #: Set by the service that owns the Celery app; None where nothing sends to agents.
    agents: AgentClient | None = None
    #: Set likewise: how a call queues a long operation for any conductor's apps worker.
    conductor_api: ConductorAPI | None = None
    #: The batching of concurrent requests of one kind (sysinv_conductor.coalesce), made
    #: by the flow that batches them on first use, keyed by what they batch (a host's
    #: label writes).
    coalescers: dict[str, Any] = field(default_factory=dict)

    def rpc(self) -> ConductorAPI:
        if self.conductor_api is None:
            raise RuntimeError("this conductor context has no broker to queue work on")
        return self.conductor_api

    @classmethod
    def build(cls, settings: Settings, db: Database | None = None) -> ConductorContext:
        db = db or Database.from_settings(settings)
        kubeconfig = settings.kubernetes.kubeconfig
        # Read once at start-up, as KubeNodes always did: a bad kubeconfig stops the
        # conductor here rather than failing each deploy or join differently.
        kube_api = (
            api_client(kubeconfig, settings.kubernetes.failover_retry_window)
            if kubeconfig
            else None
        )
        return cls(
            settings=settings,
            db=db,
            kube_api=kube_api,
            kube=KubeNodes(kube_api, timeout=settings.kubernetes.request_timeout),
            # Stable across restarts, so a restarted conductor recognises its own leases.
            conductor_id=settings.conductor_id or socket.gethostname(),
            conductor_host=settings.conductor.host or socket.gethostname(),
            # Plugins load at start-up, so a broken registration stops the conductor
            # instead of surfacing on the first apply.
            overrides=OverrideGenerator(),
            secrets=SecretStore(db, settings.secrets_key_path),
            agent_keys=HostKeys(settings.agent_master_key_path),
            registry_key=SigningKeyFile(
                settings.registry_signing_key_path, settings.registry_certificate_path
            ),
        )
