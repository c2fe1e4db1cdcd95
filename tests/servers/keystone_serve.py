"""Set up and serve a throwaway Keystone; run by the Keystone venv's python, not the project's.

Usage: ``python keystone_serve.py CONFIG_FILE PORT``; the admin password comes in
``$KEYSTONE_BOOTSTRAP_PASSWORD`` so that it is on no command line. Keystone is imported
once (most of the start time); each ``keystone-manage`` step then runs in a fork of this
process, so every step gets the fresh oslo.config state it expects without paying for
the import again (2 s in all, against 8-19 s as separate commands). The server itself is
wsgiref's single-threaded one: on SQLite, concurrent requests fail with "database is
locked".
"""

from __future__ import annotations

import grp
import os
import pwd
import sys
import traceback
from wsgiref.simple_server import make_server

from keystone.cmd import manage
from keystone.server import wsgi


def manage_step(config: str, *args: str) -> None:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            sys.argv = ["keystone-manage", "--config-file", config, *args]
            manage.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"keystone-manage {args[0]} failed with exit code {code}")


def main() -> None:
    config, port = sys.argv[1], int(sys.argv[2])
    url = f"http://127.0.0.1:{port}/v3"
    # The key repositories must belong to whoever serves them: this process's user.
    owner = [
        "--keystone-user", pwd.getpwuid(os.getuid()).pw_name,
        "--keystone-group", grp.getgrgid(os.getgid()).gr_name,
    ]  # fmt: skip
    manage_step(config, "fernet_setup", *owner)
    manage_step(config, "credential_setup", *owner)
    manage_step(config, "db_sync")
    manage_step(
        config, "bootstrap",
        # One argument with "=": a random password may start with "-".
        "--bootstrap-password=" + os.environ["KEYSTONE_BOOTSTRAP_PASSWORD"],
        "--bootstrap-admin-url", url,
        "--bootstrap-public-url", url,
        "--bootstrap-internal-url", url,
        "--bootstrap-region-id", "RegionOne",
    )  # fmt: skip

    os.environ["OS_KEYSTONE_CONFIG_DIR"] = os.path.dirname(config)
    # The application hands sys.argv to oslo.config, which rejects our arguments.
    argv, sys.argv = sys.argv, sys.argv[:1]
    app = wsgi.initialize_public_application()
    sys.argv = argv
    make_server("127.0.0.1", port, app).serve_forever()


if __name__ == "__main__":
    main()
