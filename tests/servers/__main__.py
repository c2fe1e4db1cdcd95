"""For people: ``python -m tests.servers build`` and ``python -m tests.servers up kube``.

``up kube`` starts the same control plane the tests use, prints ``export KUBECONFIG=...``
and keeps it running until Ctrl-C; ``up postgres`` and ``up redis`` print their URLs,
``up keystone`` the ``OS_*`` variables of its admin (and the other seeded users),
``up registry`` the local registry (token authentication) and a public one, with the
``SYSINV_*`` settings of the sysinv-api that serves the local one's tokens, and
``up docker`` the ``DOCKER_HOST`` of a Docker daemon of its own. ``up ha`` starts the
two-controller control plane (HAProxy in front of two apiservers) and prints its endpoint's
kubeconfig and each component's process id, to kill by hand.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import tempfile
from pathlib import Path

from tests.servers import build, procs
from tests.servers.kube import INITIAL_NODES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.servers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build or fetch every missing binary into the cache")
    up = sub.add_parser("up", help="start a server and keep it up until interrupted")
    up.add_argument(
        "what", choices=["kube", "ha", "postgres", "redis", "keystone", "registry", "docker"]
    )
    up.add_argument(
        "--nodes",
        default=",".join(INITIAL_NODES),
        help="comma-separated kwok node names (kube and ha only)",
    )
    args = parser.parse_args(argv)

    if args.command == "build":
        build.build_all()
        return 0

    procs.install_cleanup()
    if args.what == "kube":
        from tests.servers.kube import start_kube_cluster

        workdir = Path(tempfile.mkdtemp(prefix="sysinv-kube-up-"))
        cluster = start_kube_cluster([n for n in args.nodes.split(",") if n], workdir)
        print(f"export KUBECONFIG={cluster.kubeconfig}")
        print(f"# tests can reuse it: export SYSINV_TEST_KUBECONFIG={cluster.kubeconfig}")
        print(
            f"# its token webhook: {cluster.webhook_url} (serve it with "
            f"SYSINV_API__WEBHOOK_PORT={cluster.webhook_port} "
            f"SYSINV_API__WEBHOOK_CERT_FILE={cluster.webhook_cert_file} "
            f"SYSINV_API__WEBHOOK_KEY_FILE={cluster.webhook_key_file})"
        )
    elif args.what == "ha":
        from tests.servers.ha_control_plane import start_ha_control_plane

        workdir = Path(tempfile.mkdtemp(prefix="sysinv-ha-up-"))
        plane = start_ha_control_plane([n for n in args.nodes.split(",") if n], workdir)
        print(f"export KUBECONFIG={plane.kubeconfig}")
        print(f"# HAProxy's endpoint {plane.server}; state: {plane.backend_states()}")
        for i, components in enumerate(plane.components):
            pids = ", ".join(f"{name} {proc.pid}" for name, proc in components.items())
            print(f"# controller-{i} ({plane.apiserver_urls[i]}): {pids}")
    elif args.what == "postgres":
        from tests.servers.postgres import PostgresServer

        print(f"export SYSINV_DATABASE__URL={PostgresServer().start().admin_url}")
    elif args.what == "keystone":
        from tests.servers.keystone import REGION, KeystoneServer

        ks = KeystoneServer().start()
        for name, value in (
            ("OS_AUTH_URL", ks.url),
            ("OS_USERNAME", ks.admin.username),
            ("OS_PASSWORD", ks.admin.password),
            ("OS_PROJECT_NAME", ks.admin.project_name),
            ("OS_USER_DOMAIN_NAME", ks.admin.user_domain_name),
            ("OS_PROJECT_DOMAIN_NAME", ks.admin.project_domain_name),
            ("OS_REGION_NAME", REGION),
            ("OS_IDENTITY_API_VERSION", "3"),
        ):
            print(f"export {name}={shlex.quote(value)}")
        for cred in (ks.service, ks.reader, ks.other):
            print(f"# {cred.username} / {cred.password} on project {cred.project_name}")
    elif args.what == "registry":
        from tests.servers.registry import LocalRegistry, RegistryServer

        local = LocalRegistry().start()
        public = RegistryServer("public-registry").start()
        print(f"# local registry (token authentication): {local.address}")
        print(f"# public registry (no authentication): {public.address}")
        print(f"# serve its tokens: sysinv-api on port {local.token_port} with Keystone and")
        for name, value in {
            "SYSINV_API__PORT": str(local.token_port),
            **local.sysinv_env(),
        }.items():
            print(f"export {name}={shlex.quote(value)}")
    elif args.what == "docker":
        from tests.servers.docker import DockerDaemon

        daemon = DockerDaemon().start()
        print(f"export DOCKER_HOST={daemon.host}")
        print("# Debian's client: /usr/bin/docker (give it a DOCKER_CONFIG of its own)")
    else:
        from tests.servers.redis import RedisServer

        print(f"export SYSINV_MESSAGING__BROKER_URL={RedisServer().start().url}")
    print("# Ctrl-C stops it and removes its files", flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        procs.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
