"""``sysinv-conductor``: the conductor worker process."""

from __future__ import annotations

import logging

from sysinv_common.service_args import service_settings


def main(argv: list[str] | None = None) -> None:
    settings = service_settings("sysinv-conductor", __doc__, argv)
    from sysinv_conductor.service import ConductorService

    logging.getLogger(__name__).info("starting sysinv-conductor")
    ConductorService(settings).run()


if __name__ == "__main__":
    main()
