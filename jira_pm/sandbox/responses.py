"""Small helpers shared by the handlers: JSON answers and request arguments."""

from __future__ import annotations

from urllib.parse import urlencode

import orjson
from werkzeug.wrappers import Response

from jira_pm.sandbox.state import SandboxError


def encode_json(body) -> bytes:
    """Compact UTF-8 JSON, with the renderer's pre-encoded fragments embedded as they are.

    orjson is the encoder because it embeds fragments (stdlib json cannot) and encodes a
    600 KiB search page several times faster. It refuses integers beyond 64 bits and
    unpaired surrogates, so request bodies holding them are refused on the way in
    (SandboxApp.body): nothing the sandbox stores can fail here.
    """
    return orjson.dumps(body)


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(encode_json(body), status=status, headers=headers or {},
                    content_type="application/json;charset=UTF-8")


def flag_arg(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.lower() not in ("false", "0", "no")


def int_arg(request, name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SandboxError(400, [f"The value '{raw}' for '{name}' is not a valid integer."]
                           ) from None


def values_page(request, items: list, render, start: int, size: int, *,
                next_url: str | None = None, with_self: bool = True,
                with_total: bool = True) -> Response:
    """Jira's paged ``values`` envelope (startAt, maxResults, total, isLast, nextPage)."""
    last = start + size >= len(items)
    body: dict = {"self": request.url} if with_self else {}
    body.update({"maxResults": size, "startAt": start})
    if with_total:
        body["total"] = len(items)
    body["isLast"] = last
    body["values"] = [render(item) for item in items[start:start + size]]
    if not last and next_url:
        body["nextPage"] = f"{next_url}?{urlencode({'startAt': start + size, 'maxResults': size})}"
    return json_response(body)
