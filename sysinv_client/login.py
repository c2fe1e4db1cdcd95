"""Logging in through Keystone from the usual openrc variables, as StarlingX's client does:
a password token, and sysinv's endpoint from the catalog (service type ``platform``).

One login per command: the token is fetched once and sent with every request the command
makes. ``SYSTEM_URL`` with ``OS_AUTH_TOKEN`` skips Keystone altogether.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from sysinv_client.http import CliError

SERVICE_TYPE = "platform"

#: (option, environment variable, default, help)
OPTIONS: tuple[tuple[str, str, str | None, str], ...] = (
    ("--os-auth-url", "OS_AUTH_URL", None, "Keystone URL, e.g. http://keystone:5000/v3"),
    ("--os-username", "OS_USERNAME", None, "Keystone user"),
    ("--os-password", "OS_PASSWORD", None, "its password"),
    ("--os-project-name", "OS_PROJECT_NAME", None, "project to scope the token to"),
    ("--os-user-domain-name", "OS_USER_DOMAIN_NAME", "Default", "the user's domain"),
    ("--os-project-domain-name", "OS_PROJECT_DOMAIN_NAME", "Default", "the project's domain"),
    ("--os-region-name", "OS_REGION_NAME", None, "region of sysinv's endpoint"),
    ("--os-interface", "OS_INTERFACE", "public", "catalog interface: public, internal, admin"),
)


def add_options(parser: argparse.ArgumentParser) -> None:
    for option, env, default, help_text in OPTIONS:
        parser.add_argument(
            option, default=os.environ.get(env, default), help=f"{help_text} (env {env})"
        )


@dataclass(frozen=True)
class Login:
    url: str
    token: str


def login(args: argparse.Namespace, timeout: float) -> Login:
    """sysinv's URL and a token from Keystone; every failure is one readable line."""
    from keystoneauth1 import exceptions, session
    from keystoneauth1.identity import v3

    missing = [o for o, _e, _d, _h in OPTIONS[:4] if not getattr(args, o[2:].replace("-", "_"))]
    if missing:
        raise CliError(
            "Set SYSTEM_URL and OS_AUTH_TOKEN, or log in through Keystone: missing "
            + ", ".join(f"{o} (env {o[2:].upper().replace('-', '_')})" for o in missing)
        )
    auth = v3.Password(
        auth_url=args.os_auth_url, username=args.os_username, password=args.os_password,
        project_name=args.os_project_name, user_domain_name=args.os_user_domain_name,
        project_domain_name=args.os_project_domain_name,
    )  # fmt: skip
    sess = session.Session(auth=auth, timeout=timeout)
    try:
        token = sess.get_token()
        url = sess.get_endpoint(
            service_type=SERVICE_TYPE, interface=args.os_interface, region_name=args.os_region_name
        )
    except exceptions.Unauthorized:
        raise CliError(
            f"Keystone at {args.os_auth_url} refused the credentials of {args.os_username} "
            f"(project {args.os_project_name})"
        ) from None
    except (exceptions.ConnectFailure, exceptions.ConnectTimeout, exceptions.DiscoveryFailure):
        raise CliError(f"Cannot reach Keystone at {args.os_auth_url}") from None
    except exceptions.EndpointNotFound:
        url = None
    except exceptions.ClientException as exc:
        raise CliError(f"Keystone at {args.os_auth_url}: {exc}") from None
    if not url or not token:
        region = f" in region {args.os_region_name}" if args.os_region_name else ""
        raise CliError(
            f"No '{SERVICE_TYPE}' endpoint ({args.os_interface}){region} in Keystone's catalog: "
            "register sysinv with 'sysinv keystone-register', or set SYSTEM_URL"
        )
    return Login(url, token)
