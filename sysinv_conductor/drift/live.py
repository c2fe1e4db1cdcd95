"""Reading live objects for the drift audit: one list per (namespace, kind), counted.

The audit's whole load on the API server goes through :class:`LiveReader`, which counts
its requests (the benchmark reads the count). Resource names come from API discovery, one
request per group version, kept for the reader's life.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

#: Largest page of a list (the API server pages long lists; each page is one request).
PAGE = 500


@dataclass(frozen=True)
class Resource:
    """Where a kind lives on the API server."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None, name: str | None = None) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        ns = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        tail = f"/{name}" if name else ""
        return f"{base}{ns}/{self.plural}{tail}"


class UnknownKind(Exception):
    """The API server serves no such kind (its CRD was deleted, say)."""


class LiveReader:
    def __init__(self, api: ApiClient, timeout: float = 30.0) -> None:
        self.api = api
        self.timeout = timeout
        self.requests = 0
        self._lock = threading.Lock()
        self._kinds: dict[str, dict[str, Resource]] = {}

    def _get(self, path: str, query: Mapping[str, str] | None = None) -> Any:
        with self._lock:
            self.requests += 1
        resp = self.api.call_api(
            path, "GET", query_params=list((query or {}).items()),
            header_params={"Accept": "application/json"}, auth_settings=["BearerToken"],
            _preload_content=False, _return_http_data_only=True,
            _request_timeout=self.timeout,
        )  # fmt: skip
        return json.loads(resp.data)

    def resource(self, api_version: str, kind: str) -> Resource:
        """The resource serving ``kind`` in ``api_version`` (discovery, asked once per group
        version while it serves every kind asked of it); UnknownKind when none does."""
        kinds = self._kinds.get(api_version)
        if kinds is None:
            path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            try:
                listing = self._get(path)
            except ApiException as exc:
                if exc.status == 404:
                    listing = {"resources": []}
                else:
                    raise
            kinds = {
                r["kind"]: Resource(api_version, r["kind"], r["name"], bool(r.get("namespaced")))
                for r in listing.get("resources", [])
                if "/" not in r["name"]  # subresources (deployments/scale) are not kinds
            }
            self._kinds[api_version] = kinds
        found = kinds.get(kind)
        if found is None:
            # Asked again next time: the CRD that serves it may be installed meanwhile.
            del self._kinds[api_version]
            raise UnknownKind(f"{kind} is not served in {api_version}")
        return found

    def list(
        self, res: Resource, namespace: str | None, selector: str = ""
    ) -> dict[str, dict[str, Any]]:
        """The objects of ``res`` in ``namespace`` (all of a cluster-scoped kind) matching
        the label ``selector``, by name: one request per page of PAGE objects."""
        out: dict[str, dict[str, Any]] = {}
        query = {"limit": str(PAGE)}
        if selector:
            query["labelSelector"] = selector
        while True:
            page = self._get(res.path(namespace), query)
            for item in page.get("items") or []:
                out[item["metadata"]["name"]] = item
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return out
            query = {**query, "continue": token}

    def get(self, res: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        """One object, or None when it does not exist."""
        try:
            obj: dict[str, Any] = self._get(res.path(namespace, name))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return obj
