"""``sysinv keystone-register``: sysinv in Keystone's catalog, as StarlingX's clients look
for it (service type ``platform``, name ``sysinv``, public/internal/admin endpoints in the
region). Idempotent: run it again after changing a URL and only that endpoint changes."""

from __future__ import annotations

import argparse
from typing import Any

from sysinv_client.http import CliError
from sysinv_common.conf import Settings

SERVICE = {"type": "platform", "name": "sysinv", "description": "sysinv configuration service"}


def _versioned(url: str) -> str:
    """StarlingX's clients append resource paths to the catalog URL itself (``/ihosts``):
    the catalog holds the v1 root, as StarlingX registers it."""
    url = url.rstrip("/")
    return url if url.endswith("/v1") else f"{url}/v1"


def endpoint_urls(settings: Settings) -> dict[str, str]:
    ks = settings.keystone
    public = ks.public_url or f"http://{settings.api.bind_host}:{settings.api.port}"
    internal = ks.internal_url or public
    urls = {"public": public, "internal": internal, "admin": ks.admin_url or internal}
    return {interface: _versioned(url) for interface, url in urls.items()}


def _session(args: argparse.Namespace, system_scope: bool) -> Any:
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    scope: dict[str, Any] = (
        {"system_scope": "all"}
        if system_scope
        else {"project_name": args.os_project_name,
              "project_domain_name": args.os_project_domain_name}
    )  # fmt: skip
    auth = v3.Password(
        auth_url=args.os_auth_url, username=args.os_username, password=args.os_password,
        user_domain_name=args.os_user_domain_name, **scope,
    )  # fmt: skip
    return session.Session(auth=auth, timeout=30)


def register(args: argparse.Namespace, settings: Settings) -> list[str]:
    """Create or correct the service and its endpoints; returns what changed."""
    from keystoneauth1 import exceptions

    if not args.os_auth_url or not args.os_username or not args.os_password:
        raise CliError("keystone-register needs an admin's OS_AUTH_URL, OS_USERNAME, OS_PASSWORD")
    base = args.os_auth_url.rstrip("/")
    try:
        try:
            return _register(_session(args, system_scope=False), base, settings)
        except exceptions.Forbidden:
            # Keystone's newer policies want a system-scoped admin for the catalog.
            return _register(_session(args, system_scope=True), base, settings)
    except exceptions.Unauthorized:
        raise CliError(
            f"Keystone at {base} refused the credentials of {args.os_username}"
        ) from None
    except (exceptions.ConnectFailure, exceptions.ConnectTimeout):
        raise CliError(f"cannot reach Keystone at {base}") from None
    except exceptions.ClientException as exc:
        raise CliError(f"Keystone at {base}: {exc}") from None


def _register(sess: Any, base: str, settings: Settings) -> list[str]:
    region = settings.keystone.region_name
    changed: list[str] = []
    services = sess.get(f"{base}/services", params={"type": SERVICE["type"]}).json()["services"]
    service = next((s for s in services if s["name"] == SERVICE["name"]), None)
    if service is None:
        service = sess.post(f"{base}/services", json={"service": {**SERVICE, "enabled": True}})
        service = service.json()["service"]
        changed.append(f"service {SERVICE['name']} ({SERVICE['type']}) created")
    endpoints = sess.get(f"{base}/endpoints", params={"service_id": service["id"]}).json()
    for interface, url in endpoint_urls(settings).items():
        same = [
            e for e in endpoints["endpoints"]
            if e["interface"] == interface and e.get("region_id") == region
        ]  # fmt: skip
        if same and same[0]["url"] == url:
            continue
        body = {"endpoint": {"interface": interface, "url": url, "region_id": region,
                             "service_id": service["id"], "enabled": True}}  # fmt: skip
        if same:
            sess.patch(f"{base}/endpoints/{same[0]['id']}", json=body)
            changed.append(f"{interface} endpoint changed to {url}")
        else:
            sess.post(f"{base}/endpoints", json=body)
            changed.append(f"{interface} endpoint {url} created")
    return changed
