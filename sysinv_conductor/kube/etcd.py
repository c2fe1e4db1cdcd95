"""The control plane's etcd membership, through etcd's v3 JSON gateway.

``POST /v3/cluster/member/list`` and ``/v3/cluster/member/remove`` on any member's client
URL, with the client certificate kube-apiserver uses (kubeadm's
``apiserver-etcd-client``). kubeadm names a controller's member after its node, so a
controller's member is the one named by its hostname. Each endpoint is tried in turn: the
drained controller's own member may already be gone.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from sysinv_common.conf.kubernetes import KubernetesSettings
from sysinv_common.errors import InvalidState, KubeOperationFailed

LOG = logging.getLogger(__name__)
#: How long a removal etcd refuses as "unhealthy cluster" is retried. etcd refuses to
#: remove a member while fewer than a quorum of the others have been connected for 5 s
#: (its strict reconfiguration check): a member that just restarted, or a peer that
#: just reconnected, passes it within seconds.
UNHEALTHY_RETRY = 10.0


class _Unhealthy(KubeOperationFailed):
    """etcd refused a membership change for now (503, code 14 "unhealthy cluster")."""


@dataclass(frozen=True)
class Member:
    #: etcd's uint64 member id, as its JSON gateway writes it (a decimal string).
    id: str
    name: str
    peer_urls: tuple[str, ...]


class EtcdMembers:
    """The members of one etcd cluster, reached at ``endpoints`` with a client cert."""

    def __init__(
        self, endpoints: Sequence[str], ca_file: str, cert_file: str, key_file: str,
        timeout: float = 10.0,
    ) -> None:  # fmt: skip
        self.endpoints = list(endpoints)
        self.ca_file, self.cert_file, self.key_file = ca_file, cert_file, key_file
        self.timeout = timeout

    @classmethod
    def from_settings(cls, kube: KubernetesSettings) -> EtcdMembers | None:
        """None when no endpoint is configured."""
        if not kube.etcd_endpoints:
            return None
        return cls(kube.etcd_endpoints, kube.etcd_ca_file, kube.etcd_cert_file,
                   kube.etcd_key_file, kube.request_timeout)  # fmt: skip

    def _tls(self) -> ssl.SSLContext:
        # Read at each use: kubeadm renews the client certificate in place.
        context = ssl.create_default_context(cafile=self.ca_file)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` to the first endpoint that answers; KubeOperationFailed when none does
        or etcd refuses."""
        try:
            tls = self._tls()
        except (OSError, ssl.SSLError) as exc:
            raise KubeOperationFailed(f"etcd client certificate unusable: {exc}") from None
        failures: list[str] = []
        with httpx.Client(verify=tls, timeout=self.timeout) as client:
            for endpoint in self.endpoints:
                try:
                    answer = client.post(f"{endpoint.rstrip('/')}{path}", json=body)
                except httpx.HTTPError as exc:
                    failures.append(f"{endpoint}: {exc}")
                    continue
                if answer.status_code == 503:
                    raise _Unhealthy(f"etcd at {endpoint} refused {path}: {answer.text[:200]}")
                if answer.status_code != 200:
                    raise KubeOperationFailed(
                        f"etcd at {endpoint} refused {path}: {answer.status_code} "
                        f"{answer.text[:200]}"
                    )
                data = answer.json()
                return data if isinstance(data, dict) else {}
        raise KubeOperationFailed(f"no etcd endpoint answered {path}: {'; '.join(failures)}")

    def list(self) -> list[Member]:
        data = self._post("/v3/cluster/member/list", {})
        return [
            Member(str(m["ID"]), str(m.get("name", "")), tuple(m.get("peerURLs", [])))
            for m in data.get("members", [])
        ]

    def remove(self, name: str, retry_for: float = UNHEALTHY_RETRY) -> Member | None:
        """Remove the member named ``name``; None when there is none (idempotent).

        Refused (InvalidState) when it is the only member: that would end the cluster.
        etcd's own refusal while the others are not yet a settled quorum is retried for
        ``retry_for`` seconds, then raised (KubeOperationFailed).
        """
        deadline = time.monotonic() + retry_for
        while True:
            members = self.list()
            found = [m for m in members if m.name == name]
            if not found:
                return None
            if len(members) == 1:
                raise InvalidState(f"etcd member {name} is the cluster's only member; not removed")
            member = found[0]
            try:
                self._post("/v3/cluster/member/remove", {"ID": member.id})
            except KubeOperationFailed as exc:
                # A failed answer does not always mean a failed removal: a member removed
                # through itself applies its removal and stops before it answers (503
                # "server stopped"), and a dropped connection sends the call on to the
                # next endpoint, which no longer knows the member (404). The list says.
                if all(m.id != member.id for m in self.list()):
                    LOG.info("etcd member %s (%s) removed (its answer was lost)", name, member.id)
                    return member
                if not isinstance(exc, _Unhealthy) or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
                continue
            LOG.info("etcd member %s (%s) removed", name, member.id)
            return member
