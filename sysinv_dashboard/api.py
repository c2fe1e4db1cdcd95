"""sysinv's REST API as the logged-in user: their token, the ``platform`` endpoint.

Every failure is a :class:`SysinvError` carrying sysinv's faultstring, which the views
hand to Horizon's messages: a user never gets a Django error page from an API answer.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

TIMEOUT = 30.0
SERVICE_TYPE = "platform"


class SysinvError(Exception):
    """An API call that failed; ``str()`` is what to show the user."""


def fault_of(response: requests.Response) -> str:
    """The faultstring of sysinv's error body (``{"error_message": "{\\"faultstring\\"..."}``)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    inner = body.get("error_message") if isinstance(body, dict) else None
    if isinstance(inner, str):
        try:
            decoded = json.loads(inner)
        except ValueError:
            return inner
        if isinstance(decoded, dict) and decoded.get("faultstring"):
            return str(decoded["faultstring"])
        return inner
    return f"sysinv answered HTTP {response.status_code}"


def endpoint(request: Any) -> str:
    """sysinv's v1 root: ``SYSINV_URL`` if Horizon's settings pin it, else the catalog's."""
    pinned = getattr(settings, "SYSINV_URL", None)
    if pinned:
        url = str(pinned)
    else:
        interface = str(getattr(settings, "OPENSTACK_ENDPOINT_TYPE", "publicURL"))
        interface = interface.removesuffix("URL")
        region = request.user.services_region
        url = ""
        for service in request.user.service_catalog or []:
            if service.get("type") != SERVICE_TYPE:
                continue
            for ep in service.get("endpoints", []):
                if ep.get("interface") == interface and ep.get("region") in (region, None):
                    url = str(ep["url"])
        if not url:
            raise SysinvError(
                f"No '{SERVICE_TYPE}' endpoint ({interface}) in the catalog of region {region}"
            )
    url = url.rstrip("/")
    return url if url.endswith("/v1") else f"{url}/v1"


class Sysinv:
    """One user's view of the API (a new one per request)."""

    def __init__(self, request: Any) -> None:
        self.base = endpoint(request)
        self.headers = {"Accept": "application/json", "User-Agent": "sysinv-dashboard"}
        token = getattr(getattr(request.user, "token", None), "id", None)
        if token:
            self.headers["X-Auth-Token"] = str(token)

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        url = f"{self.base}/{path.lstrip('/')}"
        try:
            response = requests.request(
                method, url, json=body, params=params or None, headers=self.headers,
                timeout=TIMEOUT,
            )  # fmt: skip
        except requests.RequestException as exc:
            raise SysinvError(f"Cannot reach sysinv at {self.base}: {exc}") from None
        if response.status_code >= 400:
            raise SysinvError(fault_of(response))
        if not response.content:
            return None
        return response.json()

    # Hosts and labels

    def hosts(self) -> list[dict[str, Any]]:
        hosts: list[dict[str, Any]] = []
        marker = None
        while True:
            body = self.call("GET", "ihosts", limit=1000, marker=marker) or {}
            page = body.get("ihosts") or []
            hosts.extend(page)
            if not body.get("next") or not page:
                return hosts
            marker = page[-1]["uuid"]

    def host(self, uuid: str) -> dict[str, Any]:
        return dict(self.call("GET", f"ihosts/{quote(uuid)}"))

    def host_add(self, fields: dict[str, Any]) -> dict[str, Any]:
        return dict(self.call("POST", "ihosts", fields) or {})

    def host_action(self, uuid: str, action: str) -> dict[str, Any]:
        patch = [{"op": "replace", "path": "/action", "value": action}]
        return dict(self.call("PATCH", f"ihosts/{quote(uuid)}", patch) or {})

    def host_delete(self, uuid: str) -> None:
        self.call("DELETE", f"ihosts/{quote(uuid)}")

    def labels(self, host_uuid: str) -> list[dict[str, Any]]:
        return list((self.call("GET", f"ihosts/{quote(host_uuid)}/labels") or {})["labels"])

    def label_assign(self, host_uuid: str, labels: dict[str, str], overwrite: bool) -> None:
        self.call("POST", f"labels/{quote(host_uuid)}", labels, overwrite=str(overwrite))

    def label_remove(self, label_uuid: str) -> None:
        self.call("DELETE", f"labels/{quote(label_uuid)}")

    # Applications

    def apps(self) -> list[dict[str, Any]]:
        return list((self.call("GET", "apps") or {}).get("apps", []))

    def app(self, name: str) -> dict[str, Any]:
        return dict(self.call("GET", f"apps/{quote(name, safe='')}"))

    def app_upload(self, filename: str, data: bytes) -> dict[str, Any]:
        body = {"tarfile": filename, "binary_data": base64.urlsafe_b64encode(data).decode()}
        return dict(self.call("POST", "apps", body) or {})

    def app_update(self, filename: str, data: bytes) -> dict[str, Any]:
        """Update the application the bundle names to the bundle's version."""
        body = {"tarfile": filename, "binary_data": base64.urlsafe_b64encode(data).decode()}
        return dict(self.call("POST", "apps/update", body) or {})

    def app_directive(self, name: str, directive: str) -> None:
        values: dict[str, Any] = {"client_side": False} if directive == "apply" else {}
        params = {"directive": directive}
        if directive == "remove":
            params["force"] = "False"
        self.call("PATCH", f"apps/{quote(name, safe='')}", {"values": values}, **params)

    def app_delete(self, name: str) -> None:
        self.call("DELETE", f"apps/{quote(name, safe='')}", force="False")

    # System

    def system(self) -> dict[str, Any]:
        systems = (self.call("GET", "isystems") or {}).get("isystems", [])
        if not systems:
            raise SysinvError("No system found")
        return dict(systems[0])

    def system_modify(self, uuid: str, changes: dict[str, Any]) -> dict[str, Any]:
        patch = [{"op": "replace", "path": f"/{k}", "value": v} for k, v in changes.items()]
        return dict(self.call("PATCH", f"isystems/{quote(uuid)}", patch) or {})

    # Helm overrides

    def charts(self, app_name: str) -> list[dict[str, Any]]:
        body = self.call("GET", "helm_charts/", app_name=app_name) or {}
        return list(body.get("charts", []))

    def chart(self, app_name: str, chart: str, namespace: str) -> dict[str, Any]:
        path = f"helm_charts/{quote(app_name, safe='')}"
        return dict(self.call("GET", path, name=chart, namespace=namespace))

    def chart_user_overrides(
        self, app_name: str, chart: str, namespace: str, values_yaml: str
    ) -> None:
        """Replace the chart's user overrides with ``values_yaml`` (empty: delete them)."""
        path = f"helm_charts/{quote(app_name, safe='')}"
        if not values_yaml.strip():
            self.call("DELETE", path, name=chart, namespace=namespace)
            return
        body = {
            "flags": {"reuse_values": False, "reset_values": True},
            "values": {"files": [values_yaml], "set": []},
            "attributes": {},
        }
        self.call("PATCH", path, body, name=chart, namespace=namespace)

    def chart_enable(self, app_name: str, chart: str, namespace: str, enabled: bool) -> None:
        path = f"helm_charts/{quote(app_name, safe='')}"
        body = {"flags": {}, "values": {}, "attributes": {"enabled": str(enabled).lower()}}
        self.call("PATCH", path, body, name=chart, namespace=namespace)

    # Fault management

    def alarms(self) -> list[dict[str, Any]]:
        return list((self.call("GET", "alarms") or {}).get("alarms", []))
