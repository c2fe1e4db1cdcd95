"""``sysinv-conductor``: the conductor worker process."""

from __future__ import annotations

import logging
import sys

from sysinv_common.keyfile import KeyFileError
from sysinv_common.service_args import service_settings


def main(argv: list[str] | None = None) -> None:
    settings = service_settings("sysinv-conductor", __doc__, argv)
    from sysinv_conductor.service import ConductorService

    log = logging.getLogger(__name__)
    log.info("starting sysinv-conductor")
    try:
        service = ConductorService(settings)
    except KeyFileError as exc:
        log.error("%s", exc.message)
        sys.exit(2)
    # Non-zero when the conductor stopped without being asked to: its service manager
    # starts it again (systemd: Restart=on-failure).
    sys.exit(service.run())


if __name__ == "__main__":
    main()
