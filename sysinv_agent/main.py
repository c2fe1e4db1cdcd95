"""``sysinv-agent``: the per-node agent process (settings under ``agent:``)."""

from __future__ import annotations

import sys

from sysinv_common.service_args import service_settings


def main(argv: list[str] | None = None) -> None:
    settings = service_settings("sysinv-agent", __doc__, argv)
    if settings.messaging.broker_url.startswith("memory://"):
        sys.stderr.write(
            "sysinv-agent: the in-memory broker only reaches workers in the same process; "
            "set messaging.broker_url to the conductor's Redis (sysinv aio runs its own agent)\n"
        )
        sys.exit(2)
    from sysinv_agent.service import Agent
    from sysinv_common.keyfile import KeyFileError

    try:
        agent = Agent(settings)
    except KeyFileError as exc:
        sys.stderr.write(f"sysinv-agent: {exc.message}\n")
        sys.exit(2)
    # Non-zero unless asked to stop: 3 refused by the conductor (not restarted, see
    # sysinv-agent.service), 1 the worker stopped on its own (restarted).
    sys.exit(agent.run())


if __name__ == "__main__":
    main()
