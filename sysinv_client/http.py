"""The HTTP side of the CLI: endpoint composition, headers, sysinv's error bodies."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx


class CliError(Exception):
    """Something to print on stderr before exiting 1."""


def compose_base(url: str) -> str:
    """``http://h:p`` → ``http://h:p/v1``; keep a path prefix; don't add a second ``v1``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(f"Invalid system URL '{url}': expected http(s)://host:port[/prefix]")
    segments = [s for s in parts.path.split("/") if s]
    if "v1" in segments:
        segments = segments[: segments.index("v1") + 1]
    else:
        segments.append("v1")
    return urlunsplit((parts.scheme, parts.netloc, "/" + "/".join(segments), "", ""))


def fault_of(response: httpx.Response) -> str:
    """The faultstring of a sysinv error body, or the best readable substitute."""
    if response.status_code == 401:
        return "Invalid Identity credentials."
    try:
        body = response.json()
        inner = body.get("error_message") if isinstance(body, dict) else None
        if isinstance(inner, str):
            try:
                decoded = json.loads(inner)
            except ValueError:
                return inner
            if isinstance(decoded, dict) and decoded.get("faultstring"):
                return str(decoded["faultstring"])
            return inner
    except ValueError:
        pass
    text = response.text.strip()
    return f"HTTP {response.status_code}: {text[:500]}" if text else f"HTTP {response.status_code}"


#: Items per page of a paged list: StarlingX's largest (its api.limit_max).
PAGE_SIZE = 1000


class Api:
    def __init__(self, url: str, token: str | None, timeout: float = 60.0) -> None:
        self.base = compose_base(url)
        headers = {"Accept": "application/json", "User-Agent": "sysinv-system-cli"}
        if token:
            headers["X-Auth-Token"] = token
        self.http = httpx.Client(headers=headers, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        url = f"{self.base}/{path.lstrip('/')}"
        query = {k: v for k, v in params.items() if v is not None}
        try:
            response = self.http.request(method, url, json=body, params=query or None)
        except httpx.TransportError as exc:
            raise CliError(f"Cannot reach sysinv at {self.base}: {exc}") from None
        if response.status_code >= 400:
            raise CliError(fault_of(response))
        if response.status_code in (204, 205) or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CliError(
                f"Sysinv sent a response that is not JSON: {response.text[:200]}"
            ) from None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, **params)

    def get_all(self, path: str, key: str, page_size: int = PAGE_SIZE) -> list[Any]:
        """Every item of a paged list (``GET /v1/ihosts``): pages of ``page_size`` (the
        server may give fewer), each after the last uuid of the one before, while the
        answer has a ``next`` link. A server that does not page answers all at once."""
        items: list[Any] = []
        marker = None
        while True:
            body = self.get(path, limit=page_size, marker=marker) or {}
            page = body.get(key) or []
            items.extend(page)
            if not body.get("next") or not page:
                return items
            marker = page[-1]["uuid"]
