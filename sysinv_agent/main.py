"""``sysinv-agent``: the per-node agent.

Registration, inventory and the configurators come with the node-agents work (issue 11);
until then the command says so instead of pretending to run.
"""

import sys


def main() -> None:
    sys.stderr.write(
        "sysinv-agent: the node agent is not implemented yet (node-agents issue); "
        "nothing was started\n"
    )
    sys.exit(2)


if __name__ == "__main__":
    main()
