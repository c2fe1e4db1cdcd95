"""A throwaway OpenStack Horizon with sysinv's dashboard plugin, logging in against a Keystone.

Horizon runs from its own virtualenv in the test cache (``python -m tests.servers build``,
pinned by ``horizon-constraints.txt``; its static files are collected and compressed there
once). Each server gets a temporary directory holding its ``local/local_settings.py``
(found before Horizon's own ``local`` package: Horizon appends its directory to
``sys.path``, ours comes first through ``PYTHONPATH``), a WSGI module and a link to the
checkout's ``sysinv_dashboard`` package: the plugin runs from the repository, so the one
cached venv serves every checkout and an edit needs no rebuild, and no other package of
the repository is importable there. gunicorn serves it (one process: sessions live in its
memory cache) on a free loopback port.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.servers import cache, procs, secrets_seen
from tests.servers.ports import free_port
from tests.servers.procs import ManagedProcess

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "sysinv_dashboard"

WSGI_MODULE = '''\
"""Horizon's WSGI application with its static files (what a web server would serve)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openstack_dashboard.settings")

from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = StaticFilesHandler(get_wsgi_application())
'''


def local_settings(
    keystone_url: str,
    static_root: Path,
    secret_key: str,
    sysinv_url: str | None = None,
    plugin: bool = True,
) -> str:
    """The ``local_settings.py`` of a Horizon on loopback.

    ``sysinv_url`` pins the sysinv endpoint instead of the ``platform`` entry of the
    user's catalog (for a sysinv not registered in Keystone).
    """
    text = f"""\
# Written by tests/servers/horizon.py for one throwaway Horizon.
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECRET_KEY = {secret_key!r}
OPENSTACK_KEYSTONE_URL = {keystone_url!r}
OPENSTACK_ENDPOINT_TYPE = "publicURL"
# No memcached: one gunicorn process keeps the sessions in its memory.
CACHES = {{"default": {{"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}}}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
STATIC_ROOT = {str(static_root)!r}
COMPRESS_OFFLINE = True
SESSION_COOKIE_SECURE = False
# Without nova the Project dashboard has no panel a user may open: land on ours.
LOGIN_REDIRECT_URL = "/platform/"
CSRF_COOKIE_SECURE = False
LOGGING = {{
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {{"console": {{"class": "logging.StreamHandler"}}}},
    "root": {{"handlers": ["console"], "level": "WARNING"}},
}}
"""
    if sysinv_url:
        text += f"SYSINV_URL = {sysinv_url!r}\n"
    if plugin:
        text += """
# The plugin's enabled/ files, as if copied into openstack_dashboard/local/enabled/.
from sysinv_dashboard import enabled as _sysinv_enabled  # noqa: E402
from openstack_dashboard.local import enabled as _local_enabled  # noqa: E402

_local_enabled.__path__.append(_sysinv_enabled.__path__[0])
"""
    return text


def write_site(base: Path, settings: str) -> None:
    """``base``: the settings package, the WSGI module and the plugin's link."""
    (base / "local").mkdir(parents=True, exist_ok=True)
    (base / "local" / "__init__.py").write_text("")
    path = base / "local" / "local_settings.py"
    path.write_text(settings)
    path.chmod(0o600)  # it holds SECRET_KEY
    (base / "horizon_wsgi.py").write_text(WSGI_MODULE)
    link = base / "sysinv_dashboard"
    if not link.exists():
        link.symlink_to(PLUGIN, target_is_directory=True)


def manage(base: Path, *args: str) -> None:
    """Run one ``django-admin`` command with the settings in ``base`` (Horizon's venv)."""
    env = dict(
        os.environ, PYTHONPATH=str(base), DJANGO_SETTINGS_MODULE="openstack_dashboard.settings"
    )
    done = subprocess.run(
        [str(cache.horizon_python()), "-m", "django", *args],
        env=env,
        cwd=base,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"django-admin {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


class HorizonServer:
    def __init__(self, keystone_url: str, sysinv_url: str | None = None) -> None:
        self.keystone_url = keystone_url
        self.sysinv_url = sysinv_url
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="sysinv-horizon-"))
        self.proc: ManagedProcess | None = None
        self.start_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.base / "horizon.log"

    def start(self) -> HorizonServer:
        if not cache.horizon_ready():
            raise RuntimeError(
                f"horizon {cache.HORIZON_VERSION} is not in the test cache "
                f"({cache.horizon_python()}); run `python -m tests.servers build`"
            )
        started = time.monotonic()
        procs.register(self)
        try:
            secret_key = secrets.token_urlsafe(40)
            secrets_seen.remember(secret_key)
            settings = local_settings(
                self.keystone_url, cache.horizon_static_root(), secret_key, self.sysinv_url
            )
            write_site(self.base, settings)
            gunicorn = [
                str(cache.horizon_python()), "-m", "gunicorn",
                "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "8",
                "--timeout", "120", "--no-control-socket", "horizon_wsgi:application",
            ]  # fmt: skip
            self.proc = ManagedProcess(
                "horizon",
                gunicorn,
                self.log_path,
                env=dict(os.environ, PYTHONPATH=str(self.base)),
                cwd=self.base,
            )
            self._wait_ready(90)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started
        print(f">> horizon on {self.url} in {self.start_seconds:.1f} s", file=sys.stderr)
        return self

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            self.proc.check_alive()
            try:
                if httpx.get(f"{self.url}/auth/login/", timeout=30).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"horizon did not answer GET /auth/login/ within {timeout:.0f} s:\n"
                    f"{self.proc.log_tail()}"
                )
            time.sleep(0.2)

    def login(self, username: str, password: str) -> httpx.Client:
        """An HTTP client logged in through Horizon's login form (no browser)."""
        client = httpx.Client(base_url=self.url, timeout=60, follow_redirects=True)
        form = client.get("/auth/login/")
        form.raise_for_status()
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        region = re.search(r'name="region" value="([^"]+)"', form.text)
        assert csrf, "no CSRF token in Horizon's login form"
        data = {"csrfmiddlewaretoken": csrf.group(1), "username": username, "password": password}
        if region:
            data["region"] = region.group(1)
        client.post("/auth/login/", data=data, headers={"Referer": f"{self.url}/auth/login/"})
        return client

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
        shutil.rmtree(self.base, ignore_errors=True)
        procs.unregister(self)
