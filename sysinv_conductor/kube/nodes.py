"""Node labels, cordon and deletion, with sysinv owning only the labels it assigned.

sysinv records the keys it assigned in the ``sysinv.io/owned-labels`` annotation
(a sorted JSON list). Every change is one merge patch that carries the Node's
``resourceVersion``, so a concurrent change by someone else makes it retry on the
fresh Node instead of overwriting. Labels that others set are never touched.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from sysinv_common.errors import KubeOperationFailed
from sysinv_conductor.kube.audit import LabelDrift
from sysinv_conductor.kube.client import core_v1, describe_api_error

LOG = logging.getLogger(__name__)

OWNED_ANNOTATION = "sysinv.io/owned-labels"
CONFLICT_RETRIES = 5


class NodeSync(StrEnum):
    APPLIED = "applied"
    PENDING = "pending"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class NodeSyncResult:
    state: NodeSync
    message: str


SKIPPED = NodeSyncResult(NodeSync.SKIPPED, "no Kubernetes cluster configured; node sync skipped")


@dataclass(frozen=True)
class NodeMeta:
    """What the label work reads of a Node. Read from the API's JSON as it comes: the
    client's models cost more to build than the request takes (a Configuration and a
    logging cache reset per nested object)."""

    name: str
    labels: dict[str, str]
    annotations: dict[str, str]
    resource_version: str
    unschedulable: bool = False

    @classmethod
    def from_json(cls, node: Mapping[str, Any]) -> NodeMeta:
        meta = node.get("metadata") or {}
        return cls(
            name=str(meta.get("name", "")),
            labels=dict(meta.get("labels") or {}),
            annotations=dict(meta.get("annotations") or {}),
            resource_version=str(meta.get("resourceVersion", "")),
            unschedulable=bool((node.get("spec") or {}).get("unschedulable")),
        )


def _owned(node: NodeMeta) -> set[str]:
    raw = node.annotations.get(OWNED_ANNOTATION)
    if not raw:
        return set()
    try:
        keys = json.loads(raw)
    except ValueError:
        return set()
    return {k for k in keys if isinstance(k, str)} if isinstance(keys, list) else set()


def label_patch(
    node: NodeMeta, desired: Mapping[str, str], cordon: bool = False
) -> dict[str, Any] | None:
    """The merge patch making the owned labels ``desired`` (and, with ``cordon``, the Node
    unschedulable: its host is locked), or None when nothing differs. An unlocked host's
    Node is never uncordoned here: only an unlock does that."""
    current = node.labels
    owned = _owned(node)
    labels: dict[str, str | None] = {k: v for k, v in desired.items() if current.get(k) != v}
    for key in owned - set(desired):
        if key in current:
            labels[key] = None
    annotation = json.dumps(sorted(desired))
    to_cordon = cordon and not node.unschedulable
    if not labels and node.annotations.get(OWNED_ANNOTATION) == annotation and not to_cordon:
        return None
    patch: dict[str, Any] = {
        "metadata": {
            "resourceVersion": node.resource_version,
            "labels": labels,
            "annotations": {OWNED_ANNOTATION: annotation},
        }
    }
    if to_cordon:
        patch["spec"] = {"unschedulable": True}
    return patch


@dataclass
class AuditReach:
    """Which Nodes one label audit reached: filled by :meth:`KubeNodes.audit_labels`."""

    #: False: the Nodes could not even be listed (nothing is known of any).
    listed: bool = False
    #: Known hosts' Nodes whose labels are as desired now (found so, or repaired).
    in_sync: set[str] = field(default_factory=set)
    #: Known hosts' Nodes whose repair failed, with Kubernetes' reason.
    failed: dict[str, str] = field(default_factory=dict)


class KubeNodes:
    def __init__(self, api: ApiClient | None, timeout: float = 10.0) -> None:
        """``api``: the conductor's client; None when no cluster is configured, and every
        change then answers SKIPPED instead of failing (a cluster-less sysinv works)."""
        self.timeout = timeout
        self._core: Any = core_v1(api) if api is not None else None
        #: Each Node as this conductor's last label patch left it (see ensure_labels).
        #: Taken out while in use: a host's label writes are one at a time anyway.
        self._known: dict[str, NodeMeta] = {}

    @property
    def enabled(self) -> bool:
        return self._core is not None

    def _read(self, hostname: str) -> NodeMeta | None:
        try:
            raw = self._core.read_node(
                hostname, _request_timeout=self.timeout, _preload_content=False
            )
            return NodeMeta.from_json(json.loads(raw.data))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise self._failed("read", hostname, exc) from None
        except Exception as exc:
            raise self._failed("read", hostname, exc) from None

    @staticmethod
    def _failed(verb: str, hostname: str, exc: Exception) -> KubeOperationFailed:
        return KubeOperationFailed(
            f"Kubernetes refused to {verb} node {hostname}: {describe_api_error(exc)}"
        )

    def node_exists(self, hostname: str) -> bool:
        return self.enabled and self._read(hostname) is not None

    def has_nodes(self) -> bool:
        """Whether the cluster has any Node. True when it cannot be asked: callers use it to
        decide whether a cluster must be created, which only a sure "no" may start."""
        if not self.enabled:
            return True
        try:
            listed = self._core.list_node(limit=1, _request_timeout=self.timeout)
        except Exception as exc:
            LOG.warning("cannot list Nodes: %s", describe_api_error(exc))
            return True
        return bool(listed.items)

    def ensure_labels(
        self, hostname: str, desired: Mapping[str, str], cordon: bool = False
    ) -> NodeSyncResult:
        """Make the labels sysinv owns on ``hostname`` exactly ``desired``, and with
        ``cordon`` (a locked host) the Node unschedulable; idempotent.

        The Node as this conductor's last patch of it left it is tried first: its patch
        carries that ``resourceVersion``, so it applies only if nobody changed the Node
        since (Kubernetes answers 409 otherwise, and the Node is read). A change needs one
        round trip instead of two; "nothing to change" is never concluded from it."""
        if not self.enabled:
            return SKIPPED
        known = self._known.pop(hostname, None)
        if known is not None:
            patch = label_patch(known, desired, cordon)
            if patch is not None:
                done = self._patch_labels(hostname, patch)
                if done is not None:
                    return done
        for _ in range(CONFLICT_RETRIES):
            node = self._read(hostname)
            if node is None:
                return NodeSyncResult(
                    NodeSync.PENDING,
                    f"node {hostname} has not joined Kubernetes yet; "
                    "labels will be applied when it joins",
                )
            patch = label_patch(node, desired, cordon)
            if patch is None:
                return NodeSyncResult(NodeSync.APPLIED, f"labels of node {hostname} up to date")
            done = self._patch_labels(hostname, patch)
            if done is not None:
                return done
        raise KubeOperationFailed(
            f"Node {hostname} kept changing; its labels could not be applied, try again"
        )

    def _patch_labels(self, hostname: str, patch: dict[str, Any]) -> NodeSyncResult | None:
        """Send ``patch``; None when the Node changed since it was computed (or is gone):
        read it again. The Node as patched is remembered for the next change."""
        try:
            raw = self._core.patch_node(
                hostname, patch, _request_timeout=self.timeout, _preload_content=False
            )
        except ApiException as exc:
            if exc.status in (404, 409):
                return None  # someone changed (or deleted) the Node: recompute on a fresh read
            raise self._failed("patch", hostname, exc) from None
        except Exception as exc:
            raise self._failed("patch", hostname, exc) from None
        # Not remembered when unreadable: the next change reads the Node first.
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            self._known[hostname] = NodeMeta.from_json(json.loads(raw.data))
        if "spec" in patch:
            return NodeSyncResult(
                NodeSync.APPLIED, f"labels applied to node {hostname}, cordoned (locked)"
            )
        return NodeSyncResult(NodeSync.APPLIED, f"labels applied to node {hostname}")

    def set_unschedulable(self, hostname: str, unschedulable: bool) -> NodeSyncResult:
        """Cordon (True) or uncordon (False) the Node."""
        if not self.enabled:
            return SKIPPED
        verb = "cordoned" if unschedulable else "uncordoned"
        try:
            self._core.patch_node(
                hostname, {"spec": {"unschedulable": unschedulable}}, _request_timeout=self.timeout
            )
        except ApiException as exc:
            if exc.status == 404:
                return NodeSyncResult(
                    NodeSync.PENDING, f"node {hostname} has not joined Kubernetes yet"
                )
            raise self._failed("cordon" if unschedulable else "uncordon", hostname, exc) from None
        except Exception as exc:
            raise self._failed("patch", hostname, exc) from None
        return NodeSyncResult(NodeSync.APPLIED, f"node {hostname} {verb}")

    def delete_node(self, hostname: str) -> NodeSyncResult:
        if not self.enabled:
            return SKIPPED
        self._known.pop(hostname, None)
        try:
            self._core.delete_node(hostname, _request_timeout=self.timeout)
        except ApiException as exc:
            if exc.status == 404:
                return NodeSyncResult(NodeSync.APPLIED, f"node {hostname} already absent")
            raise self._failed("delete", hostname, exc) from None
        except Exception as exc:
            raise self._failed("delete", hostname, exc) from None
        return NodeSyncResult(NodeSync.APPLIED, f"node {hostname} deleted")

    def audit_labels(
        self,
        desired_by_host: Mapping[str, Mapping[str, str]],
        locked: Collection[str] = (),
        reach: AuditReach | None = None,
    ) -> list[LabelDrift]:
        """Repair drift of owned labels on every joined Node of a known host, and cordon
        the schedulable Nodes of the ``locked`` hosts (a Node that joined after its host
        was locked).

        One node's failure is logged and does not stop the others; ``reach`` (if given)
        records which Nodes are in line and which could not be brought in line.
        """
        reach = reach if reach is not None else AuditReach()
        if not self.enabled:
            return []
        try:
            raw = self._core.list_node(_request_timeout=self.timeout, _preload_content=False)
            nodes = [NodeMeta.from_json(n) for n in json.loads(raw.data).get("items") or []]
        except Exception as exc:
            LOG.warning("label audit: cannot list nodes: %s", describe_api_error(exc))
            return []
        reach.listed = True
        fixed: list[LabelDrift] = []
        for node in nodes:
            name = node.name
            if name not in desired_by_host:
                continue
            desired = desired_by_host[name]
            cordon = name in locked
            patch = label_patch(node, desired, cordon)
            if patch is None:
                reach.in_sync.add(name)
                continue
            changes = patch["metadata"]["labels"]
            try:
                self.ensure_labels(name, desired, cordon)
            except KubeOperationFailed as exc:
                LOG.warning("label audit: %s", exc.message)
                reach.failed[name] = exc.message
                continue
            reach.in_sync.add(name)
            if "spec" in patch:
                LOG.info("label audit cordoned node %s: its host is locked", name)
            if not changes and "spec" in patch:
                continue
            drift = LabelDrift(
                hostname=name,
                changed={k: v for k, v in changes.items() if v is not None},
                removed=sorted(k for k, v in changes.items() if v is None),
            )
            LOG.info(
                "label audit repaired node %s: set %s, removed %s",
                name,
                drift.changed,
                drift.removed,
            )
            fixed.append(drift)
        return fixed
