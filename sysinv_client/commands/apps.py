"""Application commands: list, show, upload, apply, remove, abort, delete."""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import tarfile
import time
from typing import Any

import bounded_yaml
from sysinv_client.commands.common import Context, confirm, output_options, yes_option
from sysinv_client.formatting import print_dict, print_list
from sysinv_client.http import CliError
from sysinv_client.plan_view import print_plan

LIST_FIELDS = ["name", "app_version", "manifest_name", "manifest_file", "status", "progress"]
LIST_HEADERS = ["application", "version", "manifest name", "manifest file", "status", "progress"]
REMINDER = (
    "Please use 'system application-list' or 'system application-show {name}' "
    "to view the current progress.\n"
)
# Statuses in which an operation is still running.
RUNNING = {"uploading", "applying", "removing", "updating"}


def app_list(ctx: Context, args: argparse.Namespace) -> None:
    apps = (ctx.api.get("apps") or {}).get("apps", [])
    print_list(ctx.out, apps, LIST_FIELDS, LIST_HEADERS, args.format, args.columns, "name")


def drift_summary(drift: dict[str, Any] | None) -> str:
    """The ``drift`` of application-show as a table cell: one line per drifted object."""
    if not drift:
        return "not audited"
    checked = drift.get("checked_at", "")
    lines = []
    if drift.get("error"):
        lines.append(str(drift["error"]))
    if not drift.get("drifted"):
        return "\n".join([f"none (checked {checked})", *lines])
    objects = drift.get("objects") or []
    lines.insert(0, f"{len(objects)} object(s) since {drift.get('since')} (checked {checked})")
    for o in objects:
        where = f"{o['namespace']}/" if o.get("namespace") else ""
        what = "deleted" if o.get("state") == "deleted" else ", ".join(o.get("fields") or [])
        lines.append(f"{o['kind']}/{where}{o['name']} ({o['chart']}): {what} since {o['since']}")
    return "\n".join(lines)


def app_show(ctx: Context, args: argparse.Namespace) -> None:
    app = ctx.api.get(f"apps/{args.app}")
    if args.format == "table" and isinstance(app, dict) and "drift" in app:
        app = {**app, "drift": drift_summary(app["drift"])}
    print_dict(ctx.out, app, args.format, args.columns)


def _finish(ctx: Context, args: argparse.Namespace, app: dict[str, Any]) -> None:
    print_dict(ctx.out, app, args.format, args.columns)
    if getattr(args, "wait", False):
        wait_for(ctx, app["name"], float(args.wait_timeout))
    else:
        ctx.out.write(REMINDER.format(name=app["name"]))


#: The conductor's progress of an apply or remove, chart by chart.
CHART_PROGRESS = re.compile(
    r"processing chart: (?P<chart>[^,]+), overall completion: (?P<pct>\d+)%"
)
BAR_WIDTH = 24


def progress_view(name: str, status: str, progress: str) -> str:
    """One line of an operation under way: a bar with the completion, the current chart
    and the phase (the app's status) when the conductor is going through charts; else
    the phase and what the conductor says it is doing."""
    match = CHART_PROGRESS.search(progress)
    if match is None:
        return f"{name}: {status}" + (f", {progress}" if progress else "")
    pct = min(100, int(match["pct"]))
    filled = BAR_WIDTH * pct // 100
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    return f"{name}: {status} [{bar}] {pct:3d}% chart {match['chart']}"


def final_view(name: str, status: str, progress: str) -> str:
    """The line an operation ends with: the status it reached, and the conductor's last
    word when it says more than that it completed."""
    more = progress if progress and progress != "completed" else ""
    return f"{name}: {status}" + (f" ({more})" if more else "")


def wait_for(ctx: Context, name: str, timeout: float) -> None:
    """Poll until the operation ends; exit 1 if it failed. On a terminal, one line redrawn
    (a progress bar with the current chart and phase); otherwise a plain line each time
    something changed, for logs."""
    tty = ctx.out.isatty()
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        app = ctx.api.get(f"apps/{name}")
        status, progress = str(app.get("status")), app.get("progress") or ""
        if status not in RUNNING:
            if tty and last:
                ctx.out.write("\r\x1b[K")
            ctx.out.write(final_view(name, status, progress) + "\n")
            ctx.out.flush()
            if status.endswith("-failed"):
                raise CliError(f"{name} {status}: {progress}")
            return
        line = progress_view(name, status, progress)
        if tty:
            width = shutil.get_terminal_size().columns - 1
            ctx.out.write("\r\x1b[K" + line[:width])
        elif line != last:
            ctx.out.write(line + "\n")
        ctx.out.flush()
        last = line
        if time.monotonic() > deadline:
            if tty:
                ctx.out.write("\n")
            raise CliError(f"Timed out after {timeout:.0f} s waiting for {name} ({status})")
        time.sleep(1)


def _bundle_body(args: argparse.Namespace) -> dict[str, Any]:
    source: str = args.tarfile
    body: dict[str, Any] = {}
    if source.startswith(("http://", "https://")):
        body["tarfile"] = source
    else:
        if not source.endswith((".tgz", ".tar.gz")):
            raise CliError(f"Error: File {source} has unrecognizable tar file extension.")
        if not os.path.isfile(source):
            raise CliError(f"Error: Tar file {source} does not exist")
        with open(source, "rb") as fh:
            body["binary_data"] = base64.urlsafe_b64encode(fh.read()).decode()
        body["tarfile"] = os.path.join(os.getcwd(), source)
    if args.app_name:
        body["name"] = args.app_name
    if args.app_version:
        body["app_version"] = args.app_version
    return body


def app_upload(ctx: Context, args: argparse.Namespace) -> None:
    body = _bundle_body(args)
    if args.images:
        body["images"] = True
    _finish(ctx, args, ctx.api.request("POST", "apps", body))


def _plan_update(ctx: Context, args: argparse.Namespace) -> None:
    """``application-update TARFILE --dry-run``: a plan reads no request body, so the
    bundle is named, not sent: a URL, or a path the server reads under its import
    directories (an absolute path as given, a relative one from here)."""
    source: str = args.tarfile
    if not source.startswith(("http://", "https://")):
        source = os.path.abspath(source)
    plan = ctx.api.get(
        f"apps/{args.app_name or _name_of(source)}/plan", operation="update", tarfile=source,
        reuse_user_overrides=args.reuse_user_overrides, reuse_attributes=args.reuse_attributes,
    )  # fmt: skip
    print_plan(ctx.out, plan, args.format)


def _name_of(source: str) -> str:
    """The app a bundle belongs to, from its metadata.yaml when the file is here."""
    if os.path.isfile(source):
        with tarfile.open(source) as tar:
            for member in tar.getmembers():
                if os.path.basename(member.name) == "metadata.yaml" and member.isfile():
                    fh = tar.extractfile(member)
                    meta = bounded_yaml.load(fh.read()) if fh is not None else None
                    if isinstance(meta, dict) and meta.get("app_name"):
                        return str(meta["app_name"])
    raise CliError("Error: name the application (-n APP_NAME) for a dry run of this bundle")


def app_update(ctx: Context, args: argparse.Namespace) -> None:
    if args.dry_run:
        _plan_update(ctx, args)
        return
    body = _bundle_body(args)
    # Sent as typed, as StarlingX's client does; absent, the new bundle's metadata decides.
    for key in ("reuse_user_overrides", "reuse_attributes"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    _finish(ctx, args, ctx.api.request("POST", "apps/update", body))


def _directive(directive: str) -> Any:
    def run(ctx: Context, args: argparse.Namespace) -> None:
        if args.dry_run:
            # Read-only: nothing to confirm, nothing to wait for.
            plan = ctx.api.get(f"apps/{args.app}/plan", operation=directive)
            print_plan(ctx.out, plan, args.format)
            return
        values: dict[str, Any] = {}
        params: dict[str, Any] = {"directive": directive}
        if directive == "apply":
            if args.mode:
                values["mode"] = args.mode
            values["client_side"] = False
        if directive == "remove":
            params["force"] = str(bool(args.force))
            confirm(args, f"Remove application {args.app}? Its releases are uninstalled.")
        app = ctx.api.request("PATCH", f"apps/{args.app}", {"values": values}, **params)
        _finish(ctx, args, app)

    return run


def app_abort(ctx: Context, args: argparse.Namespace) -> None:
    ctx.api.request("PATCH", f"apps/{args.app}", {"values": {}}, directive="abort")
    ctx.out.write(
        "Application abort request has been accepted. If the previous operation has not "
        "completed/failed, it will be cancelled shortly.\n"
    )


def app_delete(ctx: Context, args: argparse.Namespace) -> None:
    confirm(args, f"Delete application {args.app}?")
    ctx.api.request("DELETE", f"apps/{args.app}", force=str(bool(args.force)))
    ctx.out.write(f"Application {args.app} deleted.\n")


def _wait_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", action="store_true", help="follow progress until the end")
    p.add_argument("--wait-timeout", type=float, default=1800, help="seconds (with --wait)")


def register(sub: Any) -> None:
    p = sub.add_parser("application-list", help="list applications")
    output_options(p)
    p.set_defaults(func=app_list)

    p = sub.add_parser("application-show", help="show an application")
    p.add_argument("app")
    output_options(p)
    p.set_defaults(func=app_show)

    p = sub.add_parser("application-upload", help="upload an application tarball or URL")
    p.add_argument("tarfile")
    p.add_argument("-n", "--app-name", dest="app_name")
    p.add_argument("-v", "--app-version", dest="app_version")
    p.add_argument("-i", "--images", action="store_true", help="push the bundle's images")
    output_options(p)
    _wait_options(p)
    p.set_defaults(func=app_upload)

    p = sub.add_parser("application-update", help="update an applied application")
    p.add_argument("tarfile")
    p.add_argument("-n", "--app-name", dest="app_name")
    p.add_argument("-v", "--app-version", dest="app_version")
    p.add_argument("--reuse-user-overrides", choices=("true", "false"))
    p.add_argument("--reuse-attributes", choices=("true", "false"))
    p.add_argument(
        "--dry-run", action="store_true",
        help="show what the update would change, chart by chart, changing nothing (the "
        "server reads the bundle: a URL, or a path under its import directories)",
    )  # fmt: skip
    output_options(p)
    _wait_options(p)
    p.set_defaults(func=app_update)

    for directive in ("apply", "remove"):
        p = sub.add_parser(f"application-{directive}", help=f"{directive} an application")
        p.add_argument("app")
        if directive == "apply":
            p.add_argument("-m", "--mode", help="an apply mode the application declares")
        else:
            # -f is --format (output_options), as on every command that prints.
            p.add_argument("--force", action="store_true", help="remove even if checks fail")
            yes_option(p)
        p.add_argument(
            "--dry-run", action="store_true",
            help=f"show what the {directive} would change, chart by chart, changing nothing",
        )  # fmt: skip
        output_options(p)
        _wait_options(p)
        p.set_defaults(func=_directive(directive))

    p = sub.add_parser("application-abort", help="abort the running operation of an app")
    p.add_argument("app")
    p.set_defaults(func=app_abort)

    p = sub.add_parser("application-delete", help="delete an uploaded application")
    p.add_argument("app")
    p.add_argument("-f", "--force", action="store_true", help="delete even if checks fail")
    yes_option(p)
    p.set_defaults(func=app_delete)
