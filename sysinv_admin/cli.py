"""``sysinv``: administration commands.

- ``sysinv db upgrade``: bring the database schema to the newest migration and record
  the bootstrap section (the pre-start step of the api and conductor services).
- ``sysinv aio``: the embedded default: API, conductor and (later) a local agent in one
  process, on SQLite under a data directory, with an in-process broker and auth off.
- ``sysinv sample-config``: print the sample settings file (``etc/sysinv.sample.yaml``).
- ``sysinv keystone-register``: put sysinv in Keystone's catalog (an admin's openrc).
- ``sysinv agent-key HOSTNAME``: print the key the node's agent signs its reports with
  (run it where the conductor's state is: it derives the key from the conductor's master
  key, created at first use).
- ``sysinv registry-token-cert``: create the registry token signing key when missing,
  write its certificate, and print the ``auth`` section of the registry's configuration.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sysinv_client import login
from sysinv_client.http import CliError
from sysinv_common.conf import CONFIG_FILE_ENV, AuthMode, Settings, load_settings
from sysinv_common.conf.sample import render_sample
from sysinv_common.logs import quiet_worker_start, setup_logging

if TYPE_CHECKING:
    from sysinv_agent.service import Agent
    from sysinv_common.agent_proof import HostKeys

LOG = logging.getLogger("sysinv")

BANNER = """\
==============================================================================
 sysinv all-in-one (embedded mode)
   API:         http://{host}:{port}/v1   (docs: http://{host}:{port}/docs)
   data:        {state_dir}  (SQLite: {db})
   broker:      in-process (memory://), no external services
   Kubernetes:  {kube}
   local agent: {agent}
   helm:        {helm}
   {auth}

 Point the system CLI at it:
   {cli}
   system host-list
==============================================================================
"""


def _db_upgrade(args: argparse.Namespace) -> int:
    from sysinv_common.db.prepare import prepare_database

    settings = load_settings()
    db = prepare_database(settings)
    LOG.info("database %s is at the newest schema", db.engine.url.render_as_string())
    db.dispose()
    return 0


def _keystone_register(args: argparse.Namespace) -> int:
    from sysinv_admin.keystone_register import register

    try:
        changed = register(args, load_settings())
    except CliError as exc:
        LOG.error("%s", exc)
        return 1
    for line in changed or ["already registered; nothing changed"]:
        LOG.info("keystone-register: %s", line)
    return 0


def _agent_key(args: argparse.Namespace) -> int:
    from sysinv_common.agent_proof import KeyFileError, encode_key, host_key, load_master_key

    hostname = args.hostname
    if not hostname or hostname != hostname.strip() or any(c.isspace() for c in hostname):
        sys.stderr.write(f"sysinv agent-key: invalid hostname {hostname!r}\n")
        return 2
    settings = load_settings()
    try:
        master = load_master_key(settings.agent_master_key_path)
    except KeyFileError as exc:
        sys.stderr.write(f"sysinv agent-key: {exc.message}\n")
        return 2
    sys.stdout.write(encode_key(host_key(master, hostname)) + "\n")
    return 0


def _registry_token_cert(args: argparse.Namespace) -> int:
    import bounded_yaml
    from sysinv_common.conf.registry import TOKEN_PATH
    from sysinv_common.keyfile import KeyFileError
    from sysinv_common.registry_token import SigningKey

    settings = load_settings()
    try:
        key = SigningKey.load_or_create(
            settings.registry_signing_key_path, settings.registry_certificate_path
        )
    except (KeyFileError, OSError) as exc:
        sys.stderr.write(f"sysinv registry-token-cert: {exc}\n")
        return 2
    reg, api = settings.registry, settings.api
    base = settings.keystone.public_url or f"http://{api.bind_host}:{api.port}"
    realm = reg.token_url or base.rstrip("/") + TOKEN_PATH
    section = {"auth": {"token": {
        "realm": realm, "service": reg.service, "issuer": reg.issuer,
        "rootcertbundle": str(settings.registry_certificate_path),
    }}}  # fmt: skip
    sys.stdout.write(f"# the registry's configuration (key id {key.kid}):\n")
    sys.stdout.write(bounded_yaml.dump(section, sort_keys=False))
    return 0


def _aio(args: argparse.Namespace) -> int:
    quiet_worker_start()
    overrides: dict[str, Any] = {"state_dir": Path(args.data_dir).resolve()}
    settings = load_settings(**overrides)
    settings.api.bind_host = args.host
    settings.api.port = args.port
    if args.kubeconfig:
        kubeconfig = Path(args.kubeconfig).resolve()
        if not kubeconfig.is_file():
            LOG.error("kubeconfig %s does not exist", kubeconfig)
            return 2
        settings.kubernetes.kubeconfig = str(kubeconfig)
    if args.keystone_url:
        settings.api.auth = AuthMode.KEYSTONE
        settings.keystone.auth_url = args.keystone_url
    else:
        settings.api.auth = AuthMode.NONE
    if not settings.messaging.broker_url.startswith("memory://"):
        from sysinv_common.messaging.app import safe_url

        LOG.warning(
            "sysinv aio always uses the in-process broker; ignoring %s",
            safe_url(settings.messaging.broker_url),
        )
        settings.messaging.broker_url = "memory://"

    import uvicorn

    from sysinv_api.app import create_app
    from sysinv_common.db.prepare import prepare_database
    from sysinv_common.messaging.app import make_celery, preload_worker_modules
    from sysinv_conductor.service import ConductorService

    db = prepare_database(settings)
    celery = make_celery(settings.messaging, name="sysinv-aio")
    conductor = ConductorService(settings, app=celery, db=db)
    app = create_app(settings, db, celery=celery)
    server = uvicorn.Server(
        uvicorn.Config(app, host=args.host, port=args.port, log_config=None, access_log=False)
    )
    # From here on a SIGTERM or SIGINT only asks the server to stop, whenever it comes:
    # raised as an exception at whatever line the main thread was on (say, inside uvicorn
    # before it takes the signals over), it could leave the workers running.
    signalled: list[int] = []

    def stop_asked(signum: int, _frame: object) -> None:
        signalled.append(signum)
        server.should_exit = True

    signal.signal(signal.SIGTERM, stop_asked)
    signal.signal(signal.SIGINT, stop_asked)

    def conductor_failed() -> None:
        server.should_exit = True

    # Here, before any thread: the conductor's two workers and the agent's start at once.
    preload_worker_modules()
    conductor.start_in_thread(on_failure=conductor_failed)
    agent = _local_agent(settings, conductor.ctx.agent_keys)
    sys.stdout.write(
        BANNER.format(
            host=args.host,
            port=args.port,
            state_dir=settings.state_dir,
            db=settings.database_url,
            kube=settings.kubernetes.kubeconfig
            or "none configured (node sync skipped); use --kubeconfig FILE",
            helm=_helm_line(settings.apps.helm_binary),
            agent=f"{agent.hostname}, files under {settings.agent.root}"
            + (", commands recorded" if settings.agent.record_commands else ""),
            auth=(
                f"authentication: Keystone at {settings.keystone.auth_url} (admin writes, "
                "reader reads)"
                if settings.api.auth is AuthMode.KEYSTONE
                else "AUTHENTICATION IS OFF: every caller is admin. Bind only to a trusted address."
            ),
            cli=(
                "export OS_AUTH_URL=... OS_USERNAME=... OS_PASSWORD=... OS_PROJECT_NAME=..."
                if settings.api.auth is AuthMode.KEYSTONE
                else f"export SYSTEM_URL=http://{args.host}:{args.port} OS_AUTH_TOKEN=unused"
            ),
        )
    )
    sys.stdout.flush()
    from sysinv_common.heap import freeze_startup_heap

    freeze_startup_heap()
    try:
        server.run()
    finally:
        # Both at once: each finishes or hands back what it was doing.
        stopping = threading.Thread(target=agent.stop, name="stop-agent")
        stopping.start()
        conductor.stop()
        stopping.join()
        db.dispose()
    if conductor.failure:
        LOG.error("sysinv aio stops: %s", conductor.failure)
        return 1
    if signalled:
        return 128 + signalled[0]
    if not server.should_exit:
        LOG.error("sysinv aio's API stopped without being asked to")
        return 1
    return 0


def _helm_line(helm: str) -> str:
    """The banner's helm line: the binary applications will use, or what to set."""
    found = shutil.which(helm)
    if found:
        return found
    return (
        f"'{helm}' NOT FOUND: application upload and apply need helm 3 or 4; put helm on "
        "PATH or set SYSINV_APPS__HELM_BINARY=/path/to/helm"
    )


def _local_agent(settings: Settings, keys: HostKeys) -> Agent:
    """This machine's agent, in-process: it registers the machine as a host. Unless the
    settings say otherwise, its files go under the data directory and its commands are
    recorded, so trying sysinv changes nothing on the machine. Its key comes from the
    conductor's master key (same process), not from a key file."""
    from sysinv_agent.service import Agent, resolve_hostname

    if "root" not in settings.agent.model_fields_set:
        settings.agent.inventory_root = settings.agent.inventory_root or Path("/")
        settings.agent.root = settings.state_dir / "node"
        if "record_commands" not in settings.agent.model_fields_set:
            settings.agent.record_commands = True
    # Its own Celery app (one worker per app); the in-memory broker and result cache are
    # shared by the whole process, so it reaches the conductor as a remote agent would.
    agent = Agent(settings, key=keys.key(resolve_hostname(settings)))
    agent.start_in_thread()
    return agent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="sysinv", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config-file", help="YAML settings file (or env SYSINV_CONFIG_FILE)")
    sub = parser.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="database administration")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply all migrations and record the bootstrap section")
    aio = sub.add_parser("aio", help="run API and conductor in one process (embedded mode)")
    aio.add_argument(
        "--data-dir",
        default=os.environ.get("SYSINV_STATE_DIR", ".sysinv"),
        help="where the SQLite database and state live (default: ./.sysinv)",
    )
    aio.add_argument("--host", default="127.0.0.1", help="address to listen on")
    aio.add_argument("--port", type=int, default=6385, help="port to listen on")
    aio.add_argument("--kubeconfig", help="kubeconfig of the cluster to manage")
    aio.add_argument(
        "--verbose", action="store_true",
        help="log everything: Celery's banners, per-task and worker lines, every heartbeat",
    )  # fmt: skip
    aio.add_argument(
        "--keystone-url",
        help="authenticate with this Keystone (v3 URL; the service user from the keystone "
        "settings); default: authentication off",
    )
    sub.add_parser("sample-config", help="print a settings file of every key and its default")
    reg = sub.add_parser(
        "keystone-register",
        help="register sysinv (service type platform) and its endpoints in Keystone's catalog",
    )
    login.add_options(reg)
    key = sub.add_parser(
        "agent-key",
        help="print the key of a node's agent (base64), for its agent.key_file",
        description=(
            "Print the key HOSTNAME's agent signs its reports with, derived from the "
            "conductor's master key (agent.master_key_file, created at first use): run it "
            "where the conductor runs, as its user, and install the output on the node in a "
            "file only sysinv-agent can read (agent.key_file)."
        ),
    )
    key.add_argument("hostname", help="the node's hostname, as its agent reports it")
    sub.add_parser(
        "registry-token-cert",
        help="create the registry token key if missing; print the registry's auth section",
        description=(
            "Create the key registry tokens are signed with (registry.signing_key_file, "
            "0600) when it is missing, write its certificate (registry.certificate_file), and "
            "print the auth section of the local registry's configuration that trusts it. "
            "Run it where sysinv-api runs, as its user, before the registry starts."
        ),
    )
    args = parser.parse_args(argv)
    if args.config_file:
        os.environ[CONFIG_FILE_ENV] = args.config_file
    setup_logging(verbose=getattr(args, "verbose", False))
    # uvicorn handles SIGINT/SIGTERM; make sure a TERM before it starts also exits.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.command == "sample-config":
        sys.stdout.write(render_sample())
        sys.exit(0)
    if args.command == "db":
        sys.exit(_db_upgrade(args))
    if args.command == "keystone-register":
        sys.exit(_keystone_register(args))
    if args.command == "agent-key":
        sys.exit(_agent_key(args))
    if args.command == "registry-token-cert":
        sys.exit(_registry_token_cert(args))
    _exit_now(_aio_until_stopped(args))


def _aio_until_stopped(args: argparse.Namespace) -> int:
    """``_aio``'s exit status, also when a signal ended it: uvicorn hands SIGTERM back to
    the handler above (143) and SIGINT to Python's (KeyboardInterrupt: 130), after the
    servers stopped and the ``finally`` of ``_aio`` stopped the agent and the conductor."""
    try:
        return _aio(args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        return 130


def _exit_now(code: int) -> None:
    """Exit once everything is stopped and said, without the interpreter's teardown of
    every module (about half a second of the 2 s a service has to stop in)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
