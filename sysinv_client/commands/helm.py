"""Helm override commands: helm-override-list/show/update/delete, helm-chart-attribute-modify.

Each looks the app up first and checks that the chart serves the namespace, as StarlingX's
client does, so the messages match.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

import yaml

import bounded_yaml
from sysinv_client.commands.common import Context, output_options
from sysinv_client.formatting import print_dict, print_list
from sysinv_client.http import CliError


def _app_name(ctx: Context, app: str) -> str:
    try:
        found = ctx.api.get(f"apps/{quote(app, safe='')}")
    except CliError as exc:
        if "not found" in str(exc).lower():
            raise CliError(f"Application not found: {app}") from None
        raise
    name: str = found["name"]
    return name


def _charts(ctx: Context, app_name: str) -> list[dict[str, Any]]:
    charts: list[dict[str, Any]] = (ctx.api.get("helm_charts/", app_name=app_name) or {}).get(
        "charts", []
    )
    return charts


def _checked(ctx: Context, args: argparse.Namespace) -> str:
    name = _app_name(ctx, args.app)
    for chart in _charts(ctx, name):
        if chart.get("name") == args.chart and args.namespace in chart.get("namespaces", []):
            return name
    raise CliError(
        f"Chart overrides {args.chart}:{args.namespace} for application {args.app} not found"
    )


def override_list(ctx: Context, args: argparse.Namespace) -> None:
    charts = _charts(ctx, _app_name(ctx, args.app))
    fields = ["name", "namespaces"] + (["enabled"] if args.long else [])
    headers = ["chart name", "overrides namespaces"] + (["chart enabled"] if args.long else [])
    print_list(ctx.out, charts, fields, headers, args.format, args.columns, "name")


def override_show(ctx: Context, args: argparse.Namespace) -> None:
    name = _checked(ctx, args)
    chart = ctx.api.get(
        f"helm_charts/{quote(name, safe='')}",
        name=args.chart, namespace=args.namespace,
        show_secrets="true" if args.show_secrets else None,
    )  # fmt: skip
    print_dict(ctx.out, chart, args.format, args.columns)


def _values_files(paths: list[str]) -> list[str]:
    files: list[str] = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                data = bounded_yaml.load(fh.read())
        except OSError as exc:
            raise CliError(f"Error: cannot read {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise CliError(f"Error: {path} is not valid YAML: {exc}") from None
        # Re-dumped as StarlingX's client does: keys sorted, block style.
        files.append(bounded_yaml.dump(data, default_flow_style=False))
    return files


def override_update(ctx: Context, args: argparse.Namespace) -> None:
    if args.reuse_values and args.reset_values:
        raise CliError("Error: --reuse-values and --reset-values are mutually exclusive")
    name = _checked(ctx, args)
    body = {
        "flags": {"reuse_values": args.reuse_values, "reset_values": not args.reuse_values},
        "values": {"files": _values_files(args.values or []), "set": args.set or []},
        "attributes": {},
    }
    chart = ctx.api.request(
        "PATCH", f"helm_charts/{quote(name, safe='')}", body,
        name=args.chart, namespace=args.namespace,
    )  # fmt: skip
    print_dict(ctx.out, chart, args.format, args.columns)


def override_delete(ctx: Context, args: argparse.Namespace) -> None:
    name = _checked(ctx, args)
    ctx.api.request(
        "DELETE", f"helm_charts/{quote(name, safe='')}", name=args.chart, namespace=args.namespace
    )
    ctx.out.write(
        f"Deleted chart overrides {args.chart}:{args.namespace} for application {args.app}\n"
    )


def attribute_modify(ctx: Context, args: argparse.Namespace) -> None:
    name = _checked(ctx, args)
    attributes = {"enabled": args.enabled} if args.enabled is not None else {}
    chart = ctx.api.request(
        "PATCH", f"helm_charts/{quote(name, safe='')}",
        {"flags": {}, "values": {}, "attributes": attributes},
        name=args.chart, namespace=args.namespace,
    )  # fmt: skip
    print_dict(ctx.out, chart, args.format, args.columns)


def _chart_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("app", help="application name")
    p.add_argument("chart", help="chart name")
    p.add_argument("namespace", help="namespace of the chart's overrides")


def register(sub: Any) -> None:
    p = sub.add_parser("helm-override-list", help="list an application's charts")
    p.add_argument("app")
    p.add_argument("-l", "--long", action="store_true", help="show whether each is enabled")
    output_options(p)
    p.set_defaults(func=override_list)

    p = sub.add_parser("helm-override-show", help="show a chart's overrides")
    _chart_args(p)
    p.add_argument("--show-secrets", action="store_true", help="reveal generated secrets (admin)")
    output_options(p)
    p.set_defaults(func=override_show)

    p = sub.add_parser("helm-override-update", help="update a chart's user overrides")
    _chart_args(p)
    p.add_argument("--values", action="append", metavar="FILE", help="YAML values file")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="a value, as helm --set")
    p.add_argument("--reuse-values", action="store_true", help="merge into the stored overrides")
    p.add_argument("--reset-values", action="store_true", help="replace the stored overrides")
    output_options(p)
    p.set_defaults(func=override_update)

    p = sub.add_parser("helm-override-delete", help="delete a chart's user overrides")
    _chart_args(p)
    p.set_defaults(func=override_delete)

    p = sub.add_parser("helm-chart-attribute-modify", help="enable or disable a chart")
    _chart_args(p)
    p.add_argument("--enabled", choices=("true", "false"), help="deploy the chart or not")
    output_options(p)
    p.set_defaults(func=attribute_modify)
