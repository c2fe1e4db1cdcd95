from __future__ import annotations

import io
import json

import httpx
import pytest
import yaml

from sysinv_client.commands.common import key_values
from sysinv_client.formatting import print_dict, print_list, table
from sysinv_client.http import CliError, compose_base, fault_of


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://h:1", "http://h:1/v1"),
        ("http://h:1/", "http://h:1/v1"),
        ("http://h:1/v1", "http://h:1/v1"),
        ("http://h:1/v1/", "http://h:1/v1"),
        ("http://h:1/sysinv", "http://h:1/sysinv/v1"),
        ("https://h:1/sysinv/v1", "https://h:1/sysinv/v1"),
    ],
)
def test_url_composition(url: str, base: str) -> None:
    assert compose_base(url) == base


@pytest.mark.parametrize("url", ["h:1", "ftp://h/", "http://"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(CliError, match="Invalid system URL"):
        compose_base(url)


def test_fault_parsing() -> None:
    body = {"error_message": json.dumps({"faultstring": "boom", "debuginfo": None})}
    assert fault_of(httpx.Response(400, json=body)) == "boom"
    assert fault_of(httpx.Response(401, json=body)) == "Invalid Identity credentials."
    assert fault_of(httpx.Response(500, text="oops")) == "HTTP 500: oops"
    assert fault_of(httpx.Response(502)) == "HTTP 502"
    assert fault_of(httpx.Response(400, json={"error_message": "plain"})) == "plain"


def test_table_layout() -> None:
    text = table(["id", "hostname"], [[1, "controller-0"], [2, None]])
    assert text.splitlines() == [
        "+----+--------------+",
        "| id | hostname     |",
        "+----+--------------+",
        "| 1  | controller-0 |",
        "| 2  | None         |",
        "+----+--------------+",
    ]


def test_list_formats_sort_and_columns() -> None:
    items = [{"id": 2, "hostname": "b"}, {"id": 1, "hostname": "a"}]
    out = io.StringIO()
    print_list(out, items, ["id", "hostname"], ["id", "hostname"], "json", sort_key="id")
    assert json.loads(out.getvalue()) == [{"id": 1, "hostname": "a"}, {"id": 2, "hostname": "b"}]
    out = io.StringIO()
    print_list(out, items, ["id", "hostname"], ["id", "hostname"], "value", ["hostname"], "id")
    assert out.getvalue() == "a\nb\n"
    with pytest.raises(CliError, match="Unknown column"):
        print_list(io.StringIO(), items, ["id"], ["id"], "table", ["nope"])


def test_dict_formats() -> None:
    out = io.StringIO()
    print_dict(out, {"b": {"x": 1}, "a": "1", "links": []}, "yaml")
    assert yaml.safe_load(out.getvalue()) == {"a": "1", "b": {"x": 1}}
    out = io.StringIO()
    print_dict(out, {"b": 2, "a": 1}, "table")
    assert out.getvalue().splitlines()[3] == "| a        | 1     |"


def test_key_values() -> None:
    assert key_values(["a=b", "c=", "d=e=f"], "label") == {"a": "b", "c": "", "d": "e=f"}
    for bad in (["novalue"], ["=x"]):
        with pytest.raises(CliError, match="expected key=value"):
            key_values(bad, "label")


def _run(argv: list[str], answer: dict[str, object]) -> list[httpx.Request]:
    """Run one command against a transport that records each request and answers."""
    from sysinv_client.commands.common import Context
    from sysinv_client.http import Api
    from sysinv_client.shell import build_parser

    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=answer)

    args = build_parser().parse_args(argv)
    api = Api("http://sysinv:6385", "token")
    api.http = httpx.Client(transport=httpx.MockTransport(handle))
    args.func(Context(api, io.StringIO()), args)
    return sent


def test_apply_mode_and_update_flags_go_as_starlingx_sends_them(tmp_path: object) -> None:
    from pathlib import Path

    app = {"name": "hello-app", "status": "applying"}
    (req,) = _run(["application-apply", "hello-app", "-m", "restore_db"], app)
    assert (req.method, req.url.path, req.url.query) == (
        "PATCH",
        "/v1/apps/hello-app",
        b"directive=apply",
    )
    assert json.loads(req.content) == {"values": {"mode": "restore_db", "client_side": False}}
    (req,) = _run(["application-apply", "hello-app"], app)
    assert json.loads(req.content) == {"values": {"client_side": False}}

    bundle = Path(str(tmp_path)) / "hello-app-1.0-2.tgz"
    bundle.write_bytes(b"tgz")
    argv = ["application-update", str(bundle), "--reuse-attributes", "false",
            "--reuse-user-overrides", "true"]  # fmt: skip
    (req,) = _run(argv, app)
    body = json.loads(req.content)
    assert (req.method, req.url.path) == ("POST", "/v1/apps/update")
    assert (body["tarfile"], body["reuse_attributes"], body["reuse_user_overrides"]) == (
        str(bundle),
        "false",
        "true",
    )


def test_get_all_pages_through_the_next_links() -> None:
    from sysinv_client.http import Api

    hosts = [{"uuid": f"u{i}", "hostname": f"h{i}"} for i in range(5)]
    asked: list[dict[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        asked.append(params)
        start = 0 if "marker" not in params else int(params["marker"][1:]) + 1
        page = hosts[start : start + 2]  # the server's limit_max: 2, whatever was asked
        body: dict[str, object] = {"ihosts": page}
        if start + 2 < len(hosts):
            body["next"] = f"http://h/v1/ihosts?limit=2&marker={page[-1]['uuid']}"
        return httpx.Response(200, json=body)

    api = Api("http://h:1", None)
    api.http = httpx.Client(transport=httpx.MockTransport(answer))
    assert api.get_all("ihosts", "ihosts") == hosts
    assert asked == [
        {"limit": "1000"},
        {"limit": "1000", "marker": "u1"},
        {"limit": "1000", "marker": "u3"},
    ]
