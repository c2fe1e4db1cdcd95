"""``/docs`` and ``/redoc`` work without internet: every script, style and icon their
pages load is served by sysinv itself, and nothing is fetched from anywhere else."""

from __future__ import annotations

import re

import pytest

from tests.stack import Stack


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_of_the_docs_is_served_by_the_app(api: Stack, page: str) -> None:
    r = api.client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    urls += re.findall(r"""(?:url|spec-url)\s*[:=]\s*["']([^"']+)["']""", html)
    assert urls, html
    assert not re.search(r"https?://", html), "the page reaches outside:\n" + html
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts, urls
    for url in urls:
        got = api.client.get(url)
        assert got.status_code == 200, (url, got.status_code)
        assert got.content, url
    # Swagger UI's and ReDoc's own bundles, not a stub.
    assert all(len(api.client.get(u).content) > 100_000 for u in scripts)
    assert api.client.get("/openapi.json").json()["info"]["title"] == "sysinv"


def test_the_docs_assets_do_not_appear_in_the_openapi_document(api: Stack) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]
