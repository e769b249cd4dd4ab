"""Validate sandbox answers against Atlassian's OpenAPI documents (in ../shared).

The full documents are big (2.4 MB Cloud, 1.2 MB DC), and openapi-core is slow
to build over them, so each test module builds a *reduced* document: only the
paths it exercises plus every component those paths reference.
"""

from __future__ import annotations

import functools
import json
from urllib.parse import urlsplit

from conftest import shared_path
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

SPEC_FILES = {
    "cloud": "jira-cloud-platform-v3.swagger-v3.v3.json",
    "server": "jira-software-dc-10.3-openapi.json",
}
HOST = "http://sandbox"

# Where Atlassian's documents disagree with what real Jira sends (see the recorded
# responses in ../shared/jira-recorded), the reduced document is corrected, and only there:
# - `format: date-time` means RFC 3339, which requires a colon in the offset; Jira sends
#   `2026-11-20T10:00:00.000+0000` everywhere. Replaced by a pattern accepting both forms.
# - Changelog items (Cloud `ChangeDetails`, DC `ChangeItemBean`) declare from/fromString/
#   to/toString as non-null strings; Jira sends null for an empty side
#   (jirametrics SP-13, JRJC HST-1: "from": null).
# - Cloud: some 204 answers and the property PUT answers declare a JSON body (schema `{}`);
#   a 204 has no body by definition and Jira sends none for the property PUTs either.
# - DC: list endpoints (/field, /status, /project/{key}/versions, /worklog/list) declare a
#   single object where Jira returns an array of them (jirareport fields_server.json).
# - DC: `IssueBean.fields` declares every field value an object; values are strings,
#   numbers, arrays and null (jira-ruby search_v2.json). Relaxed to any value.
# - DC: `EntityPropertyBean.value` is declared a string; Jira returns the stored JSON value.
# - DC: `VersionBean.releaseDate`/`startDate` are declared date-times; Jira sends plain dates
#   ("releaseDate": "2007-02-19" in go-jira's apache.org capture).
JIRA_DATE_TIME = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?(Z|[+-]\d\d:?\d\d)$"
NULLABLE_PROPERTIES = {
    "ChangeDetails": ("from", "fromString", "to", "toString"),
    "ChangeItemBean": ("from", "fromString", "to", "toString"),
}
NO_BODY = {
    ("/rest/api/3/issue/{issueIdOrKey}", "put", "204"),
    ("/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}", "put", "200"),
    ("/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}", "put", "201"),
    ("/rest/api/3/comment/{commentId}/properties/{propertyKey}", "put", "200"),
    ("/rest/api/3/comment/{commentId}/properties/{propertyKey}", "put", "201"),
}
ARRAY_ANSWERS = {
    ("/rest/api/2/field", "get"), ("/rest/api/2/status", "get"),
    ("/rest/api/2/project/{projectIdOrKey}/versions", "get"), ("/rest/api/2/worklog/list", "post"),
}
ANY_VALUE = {("IssueBean", "fields"): {"type": "object", "additionalProperties": {}},
             ("EntityPropertyBean", "value"): {},
             ("VersionBean", "releaseDate"): {"type": "string", "format": "date"},
             ("VersionBean", "startDate"): {"type": "string", "format": "date"}}


@functools.cache
def _full_spec(flavor: str) -> dict:
    path = shared_path("jira-openapi", SPEC_FILES[flavor])
    return json.loads(path.read_text(encoding="utf-8"))


def _refs(node, found: set[str]) -> None:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/"):
                found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def reduced_openapi(flavor: str, templates: list[str]) -> OpenAPI:
    """An OpenAPI object for ``templates`` (full ``/rest/...`` paths) and what they reference.

    Security requirements are dropped: the sandbox's own auth is tested separately,
    and the answers (not the credentials) are what is validated here.
    """
    spec = _full_spec(flavor)
    # The DC document puts /rest in its server URL; paths are re-rooted at /rest here.
    prefix = "/rest" if flavor == "server" else ""
    paths = {}
    for template in templates:
        key = template[len(prefix):] if prefix else template
        item = json.loads(json.dumps(spec["paths"][key]))
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
        paths[template] = item
    components: dict[str, dict] = {}
    seen: set[str] = set()
    pending = set()
    _refs(paths, pending)
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, kind, name = ref.split("/", 3)
        target = spec["components"][kind][name]
        components.setdefault(kind, {})[name] = target
        _refs(target, pending)
    document = {"openapi": spec["openapi"], "info": spec["info"], "servers": [{"url": HOST}],
                "paths": paths, "components": json.loads(json.dumps(components))}
    _correct(document)
    return OpenAPI.from_dict(document)


def _correct(document: dict) -> None:
    """Apply the corrections listed at the top of this module, in place."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("format") == "date-time":
                del node["format"]
                node["pattern"] = JIRA_DATE_TIME
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if (path, method, status) in NO_BODY:
                    response.pop("content", None)
                content = response.get("content", {}).get("application/json")
                if status == "200" and content and (path, method) in ARRAY_ANSWERS:
                    content["schema"] = {"type": "array", "items": content["schema"]}
    schemas = document["components"].get("schemas", {})
    for (name, prop), schema in ANY_VALUE.items():
        if name in schemas and prop in schemas[name].get("properties", {}):
            schemas[name]["properties"][prop] = schema
    for name, properties in NULLABLE_PROPERTIES.items():
        for prop in properties:
            if name in schemas and prop in schemas[name].get("properties", {}):
                schemas[name]["properties"][prop]["nullable"] = True


def response_errors(openapi: OpenAPI, answer, body: bytes | None = None) -> list[str]:
    """Why a requests answer does not match the document (an empty list when it does)."""
    request = answer.request
    url = urlsplit(request.url)
    args = {}
    if url.query:
        from urllib.parse import parse_qsl

        args = dict(parse_qsl(url.query))
    mock_request = MockRequest(HOST, request.method.lower(), url.path, args=args,
                               data=request.body if isinstance(request.body, bytes) else
                               (request.body or "").encode())
    content_type = answer.headers.get("Content-Type", "application/json").split(";")[0]
    mock_response = MockResponse(answer.content if body is None else body,
                                 status_code=answer.status_code, headers=dict(answer.headers),
                                 content_type=content_type)
    return [_describe(e) for e in openapi.iter_response_errors(mock_request, mock_response)]


def _describe(error) -> str:
    details = getattr(error, "schema_errors", None) or getattr(
        getattr(error, "__cause__", None), "schema_errors", None) or []
    if not details:
        return f"{type(error).__name__}: {str(error)[:300]}"
    return "; ".join(f"at {list(d.absolute_path)}: {d.message[:160]}" for d in list(details)[:8])
