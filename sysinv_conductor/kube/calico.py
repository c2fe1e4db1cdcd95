"""Calico's cluster-wide defaults, written as ``crd.projectcalico.org/v1`` custom resources.

``apply_calico_resources`` creates or updates the default IPPool, FelixConfiguration and
BGPConfiguration (the objects calico-node would otherwise create with its own defaults)
so that they match the platform's pod network. It is idempotent: an object whose spec
already holds the wanted values is not written. sysinv owns only the spec fields it sets;
any other field (an operator's tuning, a default the CRD filled in) is kept.

Every update replaces the object read, resourceVersion included, so the API server
refuses it (409) if someone changed it meanwhile; that conflict is retried once on the
fresh object.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from sysinv_common.errors import InvalidInput, KubeOperationFailed
from sysinv_conductor.kube.client import describe_api_error

LOG = logging.getLogger(__name__)

GROUP = "crd.projectcalico.org"
VERSION = "v1"
REQUEST_TIMEOUT = 10.0
#: Calico's defaults for the IPAM block of one node: /26 (64 addresses) for IPv4, /122 for v6.
BLOCK_SIZE_V4 = 26
BLOCK_SIZE_V6 = 122
#: Calico's default private AS number (what calico-node uses when none is configured).
DEFAULT_AS_NUMBER = 64512
_TUNNEL_MODES = ("Never", "Always", "CrossSubnet")


@dataclass(frozen=True)
class _Desired:
    kind: str
    plural: str
    name: str
    spec: dict[str, Any]


def _desired(
    pod_subnet: str, ipip_mode: str, vxlan_mode: str, nat_outgoing: bool
) -> list[_Desired]:
    try:
        network = ipaddress.ip_network(pod_subnet, strict=True)
    except ValueError as exc:
        raise InvalidInput(f"pod subnet {pod_subnet!r} is not a network: {exc}") from None
    for label, mode in (("ipip_mode", ipip_mode), ("vxlan_mode", vxlan_mode)):
        if mode not in _TUNNEL_MODES:
            raise InvalidInput(f"{label} must be one of {', '.join(_TUNNEL_MODES)}, not {mode!r}")
    if ipip_mode != "Never" and vxlan_mode != "Never":
        # Calico refuses a pool with both encapsulations: one packet has one tunnel.
        raise InvalidInput("an IP pool cannot use both IPIP and VXLAN encapsulation")
    v6 = network.version == 6
    if v6 and ipip_mode != "Never":
        raise InvalidInput("IPIP encapsulation does not exist for IPv6 pools")
    return [
        _Desired(
            "IPPool",
            "ippools",
            "default-ipv6-ippool" if v6 else "default-ipv4-ippool",
            {
                "cidr": str(network),
                "ipipMode": ipip_mode,
                "vxlanMode": vxlan_mode,
                "natOutgoing": nat_outgoing,
                "nodeSelector": "all()",
                "blockSize": BLOCK_SIZE_V6 if v6 else BLOCK_SIZE_V4,
            },
        ),
        # reportingInterval 0s: Felix's periodic status reports are only consumed by
        # OpenStack deployments; on Kubernetes they are pure datastore (API server) load.
        # Nothing else is set: Felix detects IPIP/VXLAN from the pools by itself.
        _Desired(
            "FelixConfiguration",
            "felixconfigurations",
            "default",
            {"logSeverityScreen": "Info", "reportingInterval": "0s"},
        ),
        _Desired(
            "BGPConfiguration",
            "bgpconfigurations",
            "default",
            {
                "logSeverityScreen": "Info",
                "nodeToNodeMeshEnabled": True,
                "asNumber": DEFAULT_AS_NUMBER,
            },
        ),
    ]


def _status_details(exc: ApiException) -> Mapping[str, Any]:
    try:
        details = json.loads(exc.body or "{}").get("details")
    except (ValueError, AttributeError):
        return {}
    return details if isinstance(details, dict) else {}


def _crd_missing(plural: str, exc: Exception) -> KubeOperationFailed:
    return KubeOperationFailed(
        f"Calico CRDs are not installed: {plural}.{GROUP}/{VERSION} is not served "
        f"({describe_api_error(exc)})"
    )


def _failed(verb: str, want: _Desired, exc: Exception) -> KubeOperationFailed:
    return KubeOperationFailed(
        f"Kubernetes refused to {verb} Calico {want.kind} {want.name}: {describe_api_error(exc)}"
    )


class _Calico:
    def __init__(self, api: ApiClient) -> None:
        self.custom = client.CustomObjectsApi(api)

    def read(self, want: _Desired) -> dict[str, Any] | None:
        try:
            obj: dict[str, Any] = self.custom.get_cluster_custom_object(
                GROUP, VERSION, want.plural, want.name, _request_timeout=REQUEST_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == 404:
                # A missing object names itself in the Status details; a resource type
                # the server does not serve (no CRD) is a bare NotFound.
                if _status_details(exc).get("name") == want.name:
                    return None
                raise _crd_missing(want.plural, exc) from None
            raise _failed("read", want, exc) from None
        except Exception as exc:
            raise _failed("read", want, exc) from None
        return obj

    def create(self, want: _Desired) -> bool:
        """Create the object; False when someone else created it first."""
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": want.kind,
            "metadata": {"name": want.name},
            "spec": want.spec,
        }
        try:
            self.custom.create_cluster_custom_object(
                GROUP, VERSION, want.plural, body, _request_timeout=REQUEST_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == 409:
                return False
            if exc.status == 404:
                raise _crd_missing(want.plural, exc) from None
            raise _failed("create", want, exc) from None
        except Exception as exc:
            raise _failed("create", want, exc) from None
        return True

    def replace(self, want: _Desired, current: dict[str, Any]) -> bool:
        """Write the wanted fields over ``current``; False on a resourceVersion conflict."""
        body = copy.deepcopy(current)
        body["spec"] = {**(current.get("spec") or {}), **want.spec}
        # ``current`` carries metadata.resourceVersion: the server compares and sets.
        try:
            self.custom.replace_cluster_custom_object(
                GROUP, VERSION, want.plural, want.name, body, _request_timeout=REQUEST_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise _failed("update", want, exc) from None
        except Exception as exc:
            raise _failed("update", want, exc) from None
        return True

    def apply(self, want: _Desired) -> str:
        """Make one object hold the wanted spec; say what was done."""
        label = f"{want.kind} {want.name}"
        for attempt in range(2):  # the second pass follows a conflict, on a fresh read
            current = self.read(want)
            if current is None:
                if self.create(want):
                    LOG.info("created Calico %s", label)
                    return f"{label}: created"
            else:
                spec = current.get("spec") or {}
                if all(spec.get(k) == v for k, v in want.spec.items()):
                    return f"{label}: unchanged"
                if self.replace(want, current):
                    LOG.info("updated Calico %s", label)
                    return f"{label}: updated"
            LOG.info("Calico %s changed concurrently (attempt %d); re-reading", label, attempt + 1)
        raise KubeOperationFailed(f"Calico {label} kept changing while being applied; try again")


def apply_calico_resources(
    api: ApiClient,
    pod_subnet: str,
    *,
    ipip_mode: str = "Never",
    vxlan_mode: str = "Always",
    nat_outgoing: bool = True,
) -> list[str]:
    """Create or update the default Calico resources for ``pod_subnet``.

    Returns one line per resource, ``"<Kind> <name>: created|updated|unchanged"``.
    """
    calico = _Calico(api)
    return [
        calico.apply(want) for want in _desired(pod_subnet, ipip_mode, vxlan_mode, nat_outgoing)
    ]
