"""``sysinv-api``: serve the REST API with uvicorn, and the Kubernetes token webhook over
TLS beside it when ``api.webhook_port`` is set."""

from __future__ import annotations

import asyncio
import logging
import sys

import uvicorn

from sysinv_common.conf import Settings
from sysinv_common.db.engine import Database
from sysinv_common.heap import freeze_startup_heap
from sysinv_common.service_args import service_settings

LOG = logging.getLogger(__name__)


def _servers(settings: Settings) -> list[uvicorn.Server]:
    from sysinv_api.app import create_app

    api = settings.api
    db = Database.from_settings(settings)
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                create_app(settings, db), host=api.bind_host, port=api.port, log_config=None
            )
        )
    ]
    LOG.info("sysinv-api listening on http://%s:%d", api.bind_host, api.port)
    if api.webhook_port:
        if not api.webhook_cert_file or not api.webhook_key_file:
            raise SystemExit(
                "api.webhook_port is set: the webhook is served over TLS only; set "
                "api.webhook_cert_file and api.webhook_key_file"
            )
        from sysinv_api.webhook import KeystoneTokens, create_webhook_app

        webhook = create_webhook_app(KeystoneTokens(settings.keystone))
        servers.append(
            uvicorn.Server(
                uvicorn.Config(
                    webhook,
                    host=api.bind_host,
                    port=api.webhook_port,
                    ssl_certfile=api.webhook_cert_file,
                    ssl_keyfile=api.webhook_key_file,
                    log_config=None,
                )
            )
        )
        LOG.info(
            "token webhook listening on https://%s:%d/webhook", api.bind_host, api.webhook_port
        )
    return servers


async def _serve(servers: list[uvicorn.Server]) -> bool:
    """Serve until one server stops; answers whether it was asked to (a signal)."""
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    first = next(s for s, t in zip(servers, tasks, strict=True) if t.done())
    asked = first.should_exit
    # A signal reaches one server's handler: the others stop with it.
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks)
    return asked


def main(argv: list[str] | None = None) -> None:
    settings = service_settings("sysinv-api", __doc__, argv)
    servers = _servers(settings)
    freeze_startup_heap()
    if not asyncio.run(_serve(servers)):
        # Its service manager starts it again (systemd: Restart=on-failure).
        LOG.error("sysinv-api stopped without being asked to")
        sys.exit(1)


if __name__ == "__main__":
    main()
