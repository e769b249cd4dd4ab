"""The WSGI application: routing, auth, faults, counters, and Jira's REST endpoints.

Every handler runs under the site lock, so a request sees (and leaves) the
site consistent. Errors are Jira-shaped JSON bodies with Jira's status codes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from collections import Counter
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from jira_pm.sandbox import catalog
from jira_pm.sandbox.adf import adf_problem
from jira_pm.sandbox.changes import compute_items
from jira_pm.sandbox.faults import Faults
from jira_pm.sandbox.jql import parse
from jira_pm.sandbox.render import FieldSelection, Renderer
from jira_pm.sandbox.search import SearchCache
from jira_pm.sandbox.state import SandboxError, SiteState
from jira_pm.sandbox.timeutil import jira_timestamp, parse_duration, parse_instant

API = "/rest/api/<any('2','3'):api>"
AGILE = "/rest/agile/1.0"
CLOUD_ID_PAGE = 5000  # Cloud search/jql page size when only ids/keys are asked for
CLOUD_FULL_PAGE = 100
SERVER_RESULT_WINDOW = 10_000
GONE_MESSAGE = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                "API. A full migration guideline is available at "
                "https://developer.atlassian.com/changelog/#CHANGE-2046")
UNAUTHORIZED = {"message": "Client must be authenticated to access this resource.",
                "status-code": 401}
NO_NOTIFY = ("To discard the user notification either admin or project admin permissions are "
             "required.")
PERMISSIONS = {
    "BROWSE_PROJECTS": ("10", "Browse Projects", "Ability to browse projects and the issues "
                        "within them."),
    "EDIT_ISSUES": ("12", "Edit Issues", "Ability to edit issues."),
    "ADD_COMMENTS": ("15", "Add Comments", "Ability to comment on issues."),
    "WORK_ON_ISSUES": ("20", "Work On Issues", "Ability to log work done against an issue."),
    "ADMINISTER_PROJECTS": ("23", "Administer Projects", "Ability to administer a project in "
                            "Jira."),
}
WRITE_PERMISSIONS = {"EDIT_ISSUES", "ADD_COMMENTS", "WORK_ON_ISSUES", "ADMINISTER_PROJECTS"}


def _r(path: str, endpoint: str, methods: tuple[str, ...] = ("GET",)) -> Rule:
    return Rule(path, endpoint=endpoint, methods=list(methods))


URLS = Map([
    _r(f"{API}/serverInfo", "server_info"),
    _r(f"{API}/myself", "myself"),
    _r(f"{API}/field", "fields"),
    _r(f"{API}/project", "projects"),
    _r(f"{API}/project/search", "project_search"),
    _r(f"{API}/project/<key>", "project"),
    _r(f"{API}/project/<key>/versions", "project_versions"),
    _r(f"{API}/project/<key>/version", "project_versions_paged"),
    _r(f"{API}/version/<int:version_id>", "version"),
    _r(f"{API}/status", "statuses"),
    _r(f"{API}/mypermissions", "my_permissions"),
    _r(f"{API}/search/jql", "search_jql", ("GET", "POST")),
    _r(f"{API}/search/approximate-count", "approximate_count", ("POST",)),
    _r(f"{API}/search", "search", ("GET", "POST")),
    _r(f"{API}/issue/<id_or_key>", "issue", ("GET", "PUT", "DELETE")),
    _r(f"{API}/issue/<id_or_key>/changelog", "changelog"),
    _r(f"{API}/changelog/bulkfetch", "changelog_bulkfetch", ("POST",)),
    _r(f"{API}/issue/<id_or_key>/worklog", "worklogs", ("GET", "POST")),
    _r(f"{API}/issue/<id_or_key>/worklog/<int:worklog_id>", "worklog", ("GET", "DELETE")),
    _r(f"{API}/worklog/updated", "worklogs_updated"),
    _r(f"{API}/worklog/deleted", "worklogs_deleted"),
    _r(f"{API}/worklog/list", "worklog_list", ("POST",)),
    _r(f"{API}/issue/<id_or_key>/comment", "comments", ("GET", "POST")),
    _r(f"{API}/issue/<id_or_key>/comment/<int:comment_id>", "comment", ("GET", "PUT", "DELETE")),
    _r(f"{API}/comment/<int:comment_id>/properties", "comment_property_keys"),
    _r(f"{API}/comment/<int:comment_id>/properties/<prop>", "comment_property",
       ("GET", "PUT", "DELETE")),
    _r(f"{API}/issue/<id_or_key>/properties", "issue_property_keys"),
    _r(f"{API}/issue/<id_or_key>/properties/<prop>", "issue_property", ("GET", "PUT", "DELETE")),
    _r(f"{AGILE}/board", "boards"),
    _r(f"{AGILE}/board/<int:board_id>/sprint", "board_sprints"),
    _r(f"{AGILE}/sprint/<int:sprint_id>", "sprint"),
    _r("/__sandbox/stats", "admin_stats"),
    _r("/__sandbox/stats/reset", "admin_stats_reset", ("POST",)),
    _r("/__sandbox/admin/faults", "admin_faults", ("POST",)),
    _r("/__sandbox/admin/issue/<id_or_key>/delete", "admin_delete", ("POST",)),
    _r("/__sandbox/admin/issue/<id_or_key>/move", "admin_move", ("POST",)),
    _r("/__sandbox/admin/issue/<id_or_key>/update", "admin_update", ("POST",)),
], strict_slashes=False)

CLOUD_ONLY = {"search_jql", "approximate_count", "changelog", "changelog_bulkfetch",
              "project_search"}


def route_name(rule: Rule, api: str | None) -> str:
    """The counter name of a route: its path with ``{placeholders}`` and the real API version."""
    path = rule.rule.replace("<any('2','3'):api>", api or "2")
    for part in list(_placeholders(path)):
        name = part.strip("<>").split(":")[-1]
        path = path.replace(part, "{" + _camel(name) + "}")
    return path


def _placeholders(path: str):
    start = path.find("<")
    while start != -1:
        end = path.find(">", start)
        yield path[start:end + 1]
        start = path.find("<", end)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status,
                    headers=headers or {}, content_type="application/json;charset=UTF-8")


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.lower() not in ("false", "0", "no")


def _int(request, name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SandboxError(400, [f"The value '{raw}' for '{name}' is not a valid integer."]
                           ) from None


class Stats:
    """Request counters by method and by route."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_route: Counter = Counter()
            self.by_method: Counter = Counter()
            self.by_status: Counter = Counter()

    def count(self, method: str, route: str) -> None:
        with self._lock:
            self.total += 1
            self.by_route[f"{method} {route}"] += 1
            self.by_method[method] += 1

    def count_status(self, status: int) -> None:
        with self._lock:
            self.by_status[str(status)] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {"total": self.total, "by_route": dict(self.by_route),
                    "by_method": dict(self.by_method), "by_status": dict(self.by_status)}


class SandboxApp:
    """The WSGI callable for one site."""

    def __init__(self, state: SiteState, faults: Faults | None = None,
                 max_results_cap: int = 1000):
        self.state = state
        self.faults = faults or Faults()
        self.stats = Stats()
        self.max_results_cap = max_results_cap
        self.searches = SearchCache()
        self.fragments: dict = {}  # pre-encoded histories/worklogs/comments (render.py)
        self.base_url = ""

    # ---- WSGI ---------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.dispatch(request, environ)
        if response is None:
            # A dropped connection: the socket is already shut down, so this write fails
            # with a ConnectionError, which the server treats as a client gone away (quietly).
            start_response("500 Internal Server Error", [("Content-Length", "1")])
            return [b" "]
        return response(environ, start_response)

    def dispatch(self, request: Request, environ) -> Response | None:
        adapter = URLS.bind_to_environ(environ)
        try:
            rule, args = adapter.match(return_rule=True)
        except NotFound:
            return json_response({"message": f"null for uri: {request.url}",
                                  "status-code": 404}, 404)
        except MethodNotAllowed as exc:
            return exc.get_response(environ)
        except HTTPException as exc:  # e.g. a redirect for a trailing slash
            return exc.get_response(environ)
        endpoint = rule.endpoint
        if endpoint.startswith("admin_"):
            return self.handle(endpoint, request, args, None)
        self.stats.count(request.method, route_name(rule, args.get("api")))
        decision = self.faults.decide()
        if decision.delay:
            time.sleep(decision.delay)
        if decision.kind == "drop":
            self._drop(environ)
            return None
        if decision.kind == "throttle":
            return self._finish(json_response(
                {"errorMessages": ["The request has been rate-limited. Please try again later."],
                 "errors": {}, "status": 429}, 429, {"Retry-After": decision.retry_after}))
        if decision.kind == "error":
            headers = {"Retry-After": "1"} if decision.status == 503 else {}
            return self._finish(json_response(
                {"errorMessages": ["Internal server error (injected by the Jira sandbox)."],
                 "errors": {}}, decision.status, headers))
        user = self.authenticate(request)
        if user is None:
            return self._finish(json_response(
                UNAUTHORIZED, 401, {"WWW-Authenticate": 'Basic realm="protected-area"'}))
        api = args.pop("api", None)
        if api == "3" and self.state.flavor == "server":
            return self._finish(json_response(
                {"message": f"null for uri: {request.url}", "status-code": 404}, 404))
        if endpoint in CLOUD_ONLY and self.state.flavor == "server":
            return self._finish(json_response(
                {"message": f"null for uri: {request.url}", "status-code": 404}, 404))
        return self._finish(self.handle(endpoint, request, args, user, int(api or 2)))

    def _finish(self, response: Response) -> Response:
        self.stats.count_status(response.status_code)
        return response

    @staticmethod
    def _drop(environ) -> None:
        """Close the connection without an answer, as a dying proxy does."""
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def authenticate(self, request: Request):
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        state = self.state
        if scheme.lower() == "basic":
            try:
                login, _, secret = base64.b64decode(value).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            for user in state.users.values():
                if login in (user.email, user.name) and secret == user.api_token:
                    return user
            return None
        if scheme.lower() == "bearer" and state.flavor == "server":
            # Personal access tokens are a Data Center feature; Cloud refuses them.
            for user in state.users.values():
                if value == user.pat:
                    return user
        return None

    def handle(self, endpoint: str, request: Request, args: dict, user, api: int = 2):
        renderer = Renderer(self.state, self.base_url or request.host_url, api, self.fragments,
                            tz=user.timezone if user else "UTC")
        handler = getattr(self, f"do_{endpoint}")
        try:
            with self.state.lock:
                response = handler(request=request, user=user, r=renderer, **args)
        except SandboxError as exc:
            return json_response(exc.body, exc.status, exc.headers)
        if renderer.raw:
            response.set_data(renderer.finish(response.get_data(as_text=True)))
        return response

    # ---- helpers --------------------------------------------------------------------------
    @staticmethod
    def body(request: Request):
        if not request.get_data():
            return {}
        try:
            return json.loads(request.get_data())
        except ValueError:
            raise SandboxError(400, ["Unexpected character in the request body: it is not "
                                     "valid JSON."]) from None

    @staticmethod
    def require_write(user, message: str = "You do not have permission to edit issues in "
                                           "this project.") -> None:
        if user.readonly:
            raise SandboxError(403, [message])

    def check_notify(self, request: Request, user) -> None:
        if not _flag(request.args.get("notifyUsers"), True) and not user.admin:
            raise SandboxError(403, [NO_NOTIFY])

    @staticmethod
    def paged(request: Request, default: int, cap: int) -> tuple[int, int]:
        start = max(0, _int(request, "startAt", 0))
        size = _int(request, "maxResults", default)
        return start, max(0, min(size, cap))

    def search_ids(self, jql: str, user, need: int | None = None) -> tuple[list[int], bool]:
        """Ids the query matches, in order (at least ``need`` of them), and whether that is all."""
        key = (jql, user.timezone, self.state.revision)
        cursor = self.searches.cursor(
            key, lambda: (parse(jql, self.state, user.timezone), self.state))
        return cursor.take(need)

    # ---- site-wide ----------------------------------------------------------------------
    def do_server_info(self, request, user, r):
        now = jira_timestamp(self.state.now())
        if self.state.flavor == "cloud":
            return json_response({
                "baseUrl": r.base, "displayUrl": r.base, "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud",
                "buildNumber": 100289, "buildDate": "2026-11-01T00:00:00.000+0000",
                "serverTime": now, "scmInfo": "sandbox", "serverTitle": "Jira sandbox"})
        return json_response({
            "baseUrl": r.base, "version": "10.3.1", "versionNumbers": [10, 3, 1],
            "deploymentType": "Server", "buildNumber": 10030001,
            "buildDate": "2024-12-01T00:00:00.000+0000", "databaseBuildNumber": 10030001,
            "serverTime": now, "scmInfo": "sandbox", "serverTitle": "Jira sandbox"})

    def do_myself(self, request, user, r):
        body = r.user(user.name)
        body.update({"locale": "en_US", "groups": {"size": 1, "items": []},
                     "applicationRoles": {"size": 1, "items": []}, "expand": "groups,"
                     "applicationRoles"})
        return json_response(body)

    def do_fields(self, request, user, r):
        out = []
        for fid, name, kind in catalog.SYSTEM_FIELDS:
            out.append({"id": fid, "key": fid, "name": name, "custom": False, "orderable": True,
                        "navigable": True, "searchable": True, "clauseNames": [fid],
                        "schema": {"type": kind, "system": fid}})
        for cf in self.state.fields.values():
            number = int(cf.id.rsplit("_", 1)[1])
            schema = {"type": cf.type, "custom": cf.custom, "customId": number}
            if cf.items:
                schema["items"] = cf.items
            out.append({"id": cf.id, "key": cf.id, "name": cf.name, "custom": True,
                        "orderable": True, "navigable": True, "searchable": True,
                        "clauseNames": [f"cf[{number}]", cf.name], "schema": schema})
        return json_response(out)

    def do_projects(self, request, user, r):
        return json_response([r.project(p) for p in self.state.projects.values()])

    def do_project_search(self, request, user, r):
        projects = list(self.state.projects.values())
        wanted = request.args.getlist("keys")
        if wanted:
            projects = [p for p in projects if p.key in {k.upper() for k in wanted}]
        query = request.args.get("query", "").lower()
        if query:
            projects = [p for p in projects if query in p.key.lower() or query in p.name.lower()]
        start, size = self.paged(request, 50, 100)
        page = projects[start:start + size]
        last = start + size >= len(projects)
        body = {"self": request.url, "maxResults": size, "startAt": start,
                "total": len(projects), "isLast": last, "values": [r.project(p) for p in page]}
        if not last:
            body["nextPage"] = f"{r.rest}/project/search?startAt={start + size}&maxResults={size}"
        return json_response(body)

    def _project(self, key: str):
        project = self.state.projects.get(key.upper())
        if project is None:
            for candidate in self.state.projects.values():
                if candidate.id == key:
                    return candidate
            raise SandboxError(404, [f"No project could be found with key '{key}'."])
        return project

    def do_project(self, request, user, r, key):
        return json_response(r.project(self._project(key), full=True))

    def do_project_versions(self, request, user, r, key):
        project = self._project(key)
        return json_response([r.version(v) for v in self.state.versions.values()
                              if v.project_key == project.key])

    def do_project_versions_paged(self, request, user, r, key):
        project = self._project(key)
        versions = [v for v in self.state.versions.values() if v.project_key == project.key]
        start, size = self.paged(request, 50, 50)
        page = versions[start:start + size]
        return json_response({"self": request.url, "maxResults": size, "startAt": start,
                              "total": len(versions), "isLast": start + size >= len(versions),
                              "values": [r.version(v) for v in page]})

    def do_version(self, request, user, r, version_id):
        version = self.state.versions.get(version_id)
        if version is None:
            raise SandboxError(404, [f"Could not find version for id '{version_id}'"])
        return json_response(r.version(version))

    def do_statuses(self, request, user, r):
        return json_response([r.status(s) for s in catalog.STATUSES])

    def do_my_permissions(self, request, user, r):
        wanted = request.args.get("permissions")
        if not wanted and self.state.flavor == "cloud":
            raise SandboxError(400, ["The 'permissions' query parameter is required."])
        keys = [k.strip() for k in wanted.split(",")] if wanted else list(PERMISSIONS)
        out = {}
        for key in keys:
            if key not in PERMISSIONS:
                raise SandboxError(404, [f"No permission with key '{key}' found."])
            pid, name, description = PERMISSIONS[key]
            have = not (user.readonly and key in WRITE_PERMISSIONS)
            if key == "ADMINISTER_PROJECTS":
                have = user.admin
            out[key] = {"id": pid, "key": key, "name": name, "type": "PROJECT",
                        "description": description, "havePermission": have}
        return json_response({"permissions": out})

    # ---- search -----------------------------------------------------------------------------
    def _search_params(self, request):
        if request.method == "POST":
            data = self.body(request)
            fields = data.get("fields")
            expand = data.get("expand")
            if isinstance(expand, list):
                expand = ",".join(expand)
            return data, data.get("jql", ""), fields, expand or ""
        args = request.args
        return dict(args), args.get("jql", ""), args.get("fields"), args.get("expand", "")

    def do_search_jql(self, request, user, r):
        data, jql, fields, expand = self._search_params(request)
        stripped = jql.strip().lower()
        if not stripped or stripped.startswith("order"):
            raise SandboxError(400, ["Unbounded JQL queries are not allowed here. Please add a "
                                     "search restriction to your query."])
        selection = FieldSelection(fields, "id")
        cap = CLOUD_ID_PAGE if selection.light else CLOUD_FULL_PAGE
        try:
            size = int(data.get("maxResults", 50))
        except (TypeError, ValueError):
            raise SandboxError(400, ["maxResults must be an integer."]) from None
        size = max(1, min(size, cap))
        token = data.get("nextPageToken")
        start = self._decode_token(token, jql) if token else 0
        ids, done = self.search_ids(jql, user, start + size + 1)
        page = ids[start:start + size]
        with_changelog = "changelog" in expand.split(",")
        issues = [r.issue(self.state.issues[i], selection,
                          "search" if with_changelog else None) for i in page]
        body = {"issues": issues}
        if start + size < len(ids) or not done:
            body["nextPageToken"] = self._encode_token(start + size, jql)
            body["isLast"] = False
        else:
            body["isLast"] = True
        return json_response(body)

    @staticmethod
    def _encode_token(offset: int, jql: str) -> str:
        digest = hashlib.sha1(jql.encode()).hexdigest()[:8]
        return base64.urlsafe_b64encode(f"{offset}:{digest}".encode()).decode().rstrip("=")

    @staticmethod
    def _decode_token(token: str, jql: str) -> int:
        try:
            padded = token + "=" * (-len(token) % 4)
            offset, digest = base64.urlsafe_b64decode(padded).decode().split(":")
            if digest != hashlib.sha1(jql.encode()).hexdigest()[:8]:
                raise ValueError
            return int(offset)
        except (ValueError, UnicodeDecodeError):
            raise SandboxError(400, ["The provided next page token is invalid or expired."]
                               ) from None

    def do_approximate_count(self, request, user, r):
        data = self.body(request)
        return json_response({"count": len(self.search_ids(data.get("jql", ""), user)[0])})

    def do_search(self, request, user, r):
        if self.state.flavor == "cloud":
            raise SandboxError(410, [GONE_MESSAGE])
        data, jql, fields, expand = self._search_params(request)
        try:
            start = int(data.get("startAt", 0) or 0)
            size = int(data.get("maxResults", 50))
        except (TypeError, ValueError):
            raise SandboxError(400, ["startAt and maxResults must be integers."]) from None
        start = max(0, start)
        size = max(0, min(size, self.max_results_cap))
        if start + size > SERVER_RESULT_WINDOW:
            raise SandboxError(400, [
                f"The requested page (startAt={start}, maxResults={size}) reaches past the "
                f"result window of {SERVER_RESULT_WINDOW} issues. Narrow the query, e.g. "
                "'id > N ORDER BY id', and page from startAt=0."])
        ids, _ = self.search_ids(jql, user)
        selection = FieldSelection(fields, "*navigable")
        with_changelog = "changelog" in str(expand).split(",")
        issues = [r.issue(self.state.issues[i], selection, "full" if with_changelog else None)
                  for i in ids[start:start + size]]
        return json_response({"expand": "schema,names", "startAt": start, "maxResults": size,
                              "total": len(ids), "issues": issues})

    # ---- issues -----------------------------------------------------------------------------
    def do_issue(self, request, user, r, id_or_key):
        issue = self.state.get_issue(id_or_key)
        if request.method == "GET":
            selection = FieldSelection(request.args.get("fields"), "*all")
            expand = request.args.get("expand", "")
            mode = None
            if "changelog" in expand.split(","):
                mode = "issue" if self.state.flavor == "cloud" else "full"
            return json_response(r.issue(issue, selection, mode))
        if request.method == "DELETE":
            self.require_write(user, "You do not have permission to delete issues in this "
                                     "project.")
            self.state.delete_issue(issue)
            return Response(status=204)
        self.require_write(user)
        self.check_notify(request, user)
        changes = self._edit_changes(r, issue, self.body(request))
        items = compute_items(self.state, issue, changes)
        self.state.record_change(issue, user.name, items)
        return Response(status=204)

    def _edit_changes(self, r, issue, body: dict) -> dict:
        """Translate a PUT /issue body into update_issue changes (validated first)."""
        if not isinstance(body, dict):
            raise SandboxError(400, ["The request body must be a JSON object."])
        fields = body.get("fields") or {}
        update = body.get("update") or {}
        f = self.state.fields
        changes: dict = {}
        errors = {}
        for name, value in fields.items():
            if name == "labels":
                changes["labels"] = list(value or [])
            elif name == "summary":
                changes["summary"] = value
            elif name == "duedate":
                changes["due"] = value
            elif name == f["points"].id:
                changes["points"] = value
            elif name == f["budget"].id:
                changes["budget"] = value
            elif name == f["start_date"].id:
                changes["start_date"] = value
            elif name == "timetracking":
                if "originalEstimate" in value:
                    changes["original_estimate"] = value["originalEstimate"]
                if "remainingEstimate" in value:
                    changes["remaining_estimate"] = value["remainingEstimate"]
            elif name == "fixVersions":
                changes["fix_versions"] = [self._version_name(issue, v) for v in value or []]
            elif name == f["sprint"].id:
                sprint_id = value if not isinstance(value, list) else (value[0] if value
                                                                       else None)
                sprint = self.state.sprints.get(int(sprint_id)) if sprint_id else None
                changes["sprints"] = [sprint.name] if sprint else []
            elif (name == "parent" and self.state.flavor == "cloud") or (
                    name == f["epic_link"].id and self.state.flavor == "server"):
                ref = value.get("key") or value.get("id") if isinstance(value, dict) else value
                changes["epic"] = ref or None
            else:
                errors[name] = (f"Field '{name}' cannot be set. It is not on the appropriate "
                                "screen, or unknown.")
        for name, operations in update.items():
            if name != "labels":
                errors[name] = (f"Field '{name}' cannot be set. It is not on the appropriate "
                                "screen, or unknown.")
                continue
            labels = list(changes.get("labels", issue.labels))
            for operation in operations:
                if not isinstance(operation, dict) or len(operation) != 1:
                    raise SandboxError(400, [], {"labels": "Operation must be one of add, "
                                                           "remove or set."})
                (verb, value), = operation.items()
                if verb == "add" and value not in labels:
                    labels.append(value)
                elif verb == "remove":
                    labels = [label for label in labels if label != value]
                elif verb == "set":
                    labels = list(value or [])
                elif verb not in ("add", "remove", "set"):
                    raise SandboxError(400, [], {"labels": f"Operation '{verb}' is not "
                                                           "supported for labels."})
            for label in labels:
                if " " in label:
                    raise SandboxError(400, [], {"labels": "The label '"
                                                 f"{label}' contains spaces which is invalid."})
            changes["labels"] = labels
        if errors:
            raise SandboxError(400, [], errors)
        if "epic" in changes and changes["epic"] and self.state.find_issue(
                changes["epic"]) is None:
            raise SandboxError(400, [], {"parent": f"Issue '{changes['epic']}' not found."})
        return changes

    def _version_name(self, issue, value) -> str:
        for version in self.state.versions.values():
            if version.project_key != issue.project_key:
                continue
            if (isinstance(value, dict) and (value.get("name") == version.name
                                             or str(value.get("id")) == str(version.id))):
                return version.name
        raise SandboxError(400, [], {"fixVersions": f"Version {value!r} is not valid"})

    # ---- changelog ---------------------------------------------------------------------------
    def do_changelog(self, request, user, r, id_or_key):
        issue = self.state.get_issue(id_or_key)
        start, size = self.paged(request, 100, 100)
        histories = issue.histories
        page = histories[start:start + size]
        last = start + size >= len(histories)
        body = {"self": request.url, "maxResults": size, "startAt": start,
                "total": len(histories), "isLast": last,
                "values": [r.history_out(h) for h in page]}
        if not last:
            body["nextPage"] = (f"{r.rest}/issue/{issue.id}/changelog?"
                                + urlencode({"startAt": start + size, "maxResults": size}))
        return json_response(body)

    def do_changelog_bulkfetch(self, request, user, r):
        data = self.body(request)
        refs = data.get("issueIdsOrKeys") or []
        if not refs or len(refs) > 1000:
            raise SandboxError(400, ["issueIdsOrKeys must list between 1 and 1000 issues."])
        size = max(1, min(int(data.get("maxResults", 1000)), 10000))
        field_ids = set(data.get("fieldIds") or [])
        start = self._decode_token(data["nextPageToken"], "bulkfetch") if data.get(
            "nextPageToken") else 0
        flat = []
        for ref in refs:
            issue = self.state.find_issue(ref)
            if issue is None:
                continue
            for history in issue.histories:
                flat.append((issue.id, history))
        page = flat[start:start + size]
        groups: dict[int, list] = {}
        for issue_id, history in page:
            rendered = r.history(history)
            if field_ids:
                rendered["items"] = [i for i in rendered["items"]
                                     if i.get("fieldId", i["field"]) in field_ids]
                if not rendered["items"]:
                    continue
            groups.setdefault(issue_id, []).append(rendered)
        body = {"issueChangeLogs": [{"issueId": str(i), "changeHistories": h}
                                    for i, h in groups.items()]}
        if start + size < len(flat):
            body["nextPageToken"] = self._encode_token(start + size, "bulkfetch")
        return json_response(body)

    # ---- worklogs -----------------------------------------------------------------------------
    def do_worklogs(self, request, user, r, id_or_key):
        issue = self.state.get_issue(id_or_key)
        if request.method == "GET":
            start, size = self.paged(request, 5000, 5000)
            page = issue.worklogs[start:start + size]
            return json_response({"startAt": start, "maxResults": size,
                                  "total": len(issue.worklogs),
                                  "worklogs": [r.worklog_out(w) for w in page]})
        self.require_write(user, "You do not have the permission to log work on this issue.")
        self.check_notify(request, user)
        data = self.body(request)
        if r.api == 3 and data.get("comment") is not None and adf_problem(data["comment"]):
            raise SandboxError(400, [], {"comment": "Comment body is not valid!"})
        try:
            seconds = parse_duration(data.get("timeSpentSeconds") or data.get("timeSpent"))
            started = parse_instant(data["started"]) if data.get("started") else self.state.now()
        except ValueError as exc:
            raise SandboxError(400, [], {"timeLogged": str(exc)}) from None
        if not seconds:
            raise SandboxError(400, [], {"timeLogged": "You must indicate the time spent "
                                                       "working."})
        adjust = request.args.get("adjustEstimate", "auto")
        try:
            worklog = self.state.add_worklog(
                issue, user.name, started, seconds, data.get("comment") or "", adjust=adjust,
                new_estimate=parse_duration(request.args.get("newEstimate")),
                reduce_by=parse_duration(request.args.get("reduceBy")))
        except ValueError as exc:
            raise SandboxError(400, [str(exc)]) from None
        return json_response(r.worklog(worklog), 201)

    def do_worklog(self, request, user, r, id_or_key, worklog_id):
        issue = self.state.get_issue(id_or_key)
        worklog = next((w for w in issue.worklogs if w.id == worklog_id), None)
        if worklog is None:
            raise SandboxError(404, [f"Cannot find worklog with id: '{worklog_id}'."])
        if request.method == "GET":
            return json_response(r.worklog(worklog))
        self.require_write(user, "You do not have the permission to delete this worklog.")
        try:
            self.state.delete_worklog(
                worklog.id, author=user.name, adjust=request.args.get("adjustEstimate", "auto"),
                new_estimate=parse_duration(request.args.get("newEstimate")),
                increase_by=parse_duration(request.args.get("increaseBy")))
        except ValueError as exc:
            raise SandboxError(400, [str(exc)]) from None
        return Response(status=204)

    def _since_page(self, request, r, entries, kind: str):
        since = _int(request, "since", 0)
        chosen = sorted((e for e in entries if e[1] >= since), key=lambda e: (e[1], e[0]))
        page = chosen[:1000]
        last = len(chosen) <= 1000
        until = page[-1][1] if page else since
        body = {"values": [{"worklogId": wid, "updatedTime": at, "properties": []}
                           for wid, at in page],
                "since": since, "until": until, "self": request.url, "lastPage": last}
        if not last:
            body["nextPage"] = f"{r.rest}/worklog/{kind}?since={until}"
        return json_response(body)

    def do_worklogs_updated(self, request, user, r):
        entries = [(w.id, w.updated) for w in self.state.worklog_index.values()]
        return self._since_page(request, r, entries, "updated")

    def do_worklogs_deleted(self, request, user, r):
        return self._since_page(request, r, list(self.state.deleted_worklogs), "deleted")

    def do_worklog_list(self, request, user, r):
        ids = self.body(request).get("ids") or []
        if len(ids) > 1000:
            raise SandboxError(400, ["The request contains more than 1000 worklog ids."])
        found = [self.state.worklog_index.get(int(i)) for i in ids]
        return json_response([r.worklog(w) for w in found if w is not None])

    # ---- comments -------------------------------------------------------------------------------
    def _comment_body(self, r, data) -> object:
        body = data.get("body") if isinstance(data, dict) else None
        if r.api == 3:
            problem = adf_problem(body)
            if problem:
                raise SandboxError(400, [], {"comment": "Comment body is not valid!"})
            return body
        if not isinstance(body, str) or not body.strip():
            raise SandboxError(400, [], {"comment": "Comment body can not be empty!"})
        return body

    def do_comments(self, request, user, r, id_or_key):
        issue = self.state.get_issue(id_or_key)
        if request.method == "GET":
            start, size = self.paged(request, 5000, 5000)
            comments = issue.comments
            if request.args.get("orderBy", "").lstrip("+") == "-created":
                comments = list(reversed(comments))
            page = comments[start:start + size]
            return json_response({"startAt": start, "maxResults": size,
                                  "total": len(comments),
                                  "comments": [r.comment_out(c) for c in page]})
        self.require_write(user, "You do not have the permission to comment on this issue.")
        self.check_notify(request, user)
        body = self._comment_body(r, self.body(request))
        comment = self.state.add_comment(issue, user.name, body)
        return json_response(r.comment(comment), 201)

    def _find_comment(self, issue, comment_id):
        comment = next((c for c in issue.comments if c.id == comment_id), None)
        if comment is None:
            raise SandboxError(404, [f"Can not find a comment for the id: {comment_id}."])
        return comment

    def do_comment(self, request, user, r, id_or_key, comment_id):
        issue = self.state.get_issue(id_or_key)
        comment = self._find_comment(issue, comment_id)
        if request.method == "GET":
            return json_response(r.comment(comment))
        self.require_write(user, "You do not have the permission to edit this comment.")
        self.check_notify(request, user)
        if request.method == "DELETE":
            issue.comments.remove(comment)
            self.state.touch(issue)
            return Response(status=204)
        comment.body = self._comment_body(r, self.body(request))
        comment.update_author = user.name
        comment.updated = self.state.touch(issue)
        return json_response(r.comment(comment))

    def _comment_anywhere(self, comment_id):
        for issue in self.state.issues.values():
            for comment in issue.comments:
                if comment.id == comment_id:
                    return comment
        raise SandboxError(404, [f"Can not find a comment for the id: {comment_id}."])

    def do_comment_property_keys(self, request, user, r, comment_id):
        comment = self._comment_anywhere(comment_id)
        return json_response({"keys": [
            {"self": f"{r.rest}/comment/{comment_id}/properties/{k}", "key": k}
            for k in comment.properties]})

    def do_comment_property(self, request, user, r, comment_id, prop):
        comment = self._comment_anywhere(comment_id)
        return self._property(request, user, comment.properties, prop, "comment")

    def do_issue_property_keys(self, request, user, r, id_or_key):
        issue = self.state.get_issue(id_or_key)
        return json_response({"keys": [
            {"self": f"{r.rest}/issue/{issue.id}/properties/{k}", "key": k}
            for k in (issue.properties or {})]})

    def do_issue_property(self, request, user, r, id_or_key, prop):
        issue = self.state.get_issue(id_or_key)
        if issue.properties is None:
            issue.properties = {}
        return self._property(request, user, issue.properties, prop, "issue")

    def _property(self, request, user, properties: dict, prop: str, owner: str):
        if request.method == "GET":
            if prop not in properties:
                raise SandboxError(404, [f"The property with key '{prop}' does not exist."])
            return json_response({"key": prop, "value": properties[prop]})
        self.require_write(user, f"You do not have permission to edit this {owner}.")
        if request.method == "DELETE":
            if prop not in properties:
                raise SandboxError(404, [f"The property with key '{prop}' does not exist."])
            del properties[prop]
            return Response(status=204)
        existed = prop in properties
        properties[prop] = self.body(request)
        self.state.revision += 1
        return Response(status=200 if existed else 201)

    # ---- agile --------------------------------------------------------------------------------
    def do_boards(self, request, user, r):
        boards = sorted({s.board_id for s in self.state.sprints.values()} or {1})
        values = [{"id": b, "self": f"{r.base}/rest/agile/1.0/board/{b}",
                   "name": f"Board {b}", "type": "scrum"} for b in boards]
        return json_response({"maxResults": 50, "startAt": 0, "total": len(values),
                              "isLast": True, "values": values})

    def do_board_sprints(self, request, user, r, board_id):
        sprints = [s for s in self.state.sprints.values() if s.board_id == board_id]
        states = request.args.get("state")
        if states:
            allowed = {s.strip().lower() for s in states.split(",")}
            sprints = [s for s in sprints if s.state in allowed]
        start, size = self.paged(request, 50, 50)
        page = sprints[start:start + size]
        return json_response({"maxResults": size, "startAt": start,
                              "isLast": start + size >= len(sprints),
                              "values": [r.agile_sprint(s) for s in page]})

    def do_sprint(self, request, user, r, sprint_id):
        sprint = self.state.sprints.get(sprint_id)
        if sprint is None:
            raise SandboxError(404, [f"Sprint with id {sprint_id} does not exist."])
        return json_response(r.agile_sprint(sprint))

    # ---- /__sandbox admin (no auth: loopback test control) ----------------------------------
    def do_admin_stats(self, request, user, r):
        return json_response(self.stats.snapshot())

    def do_admin_stats_reset(self, request, user, r):
        self.stats.reset()
        return Response(status=204)

    def do_admin_faults(self, request, user, r):
        try:
            self.faults.set(**self.body(request))
        except (TypeError, ValueError) as exc:
            raise SandboxError(400, [str(exc)]) from None
        return Response(status=204)

    def do_admin_delete(self, request, user, r, id_or_key):
        self.state.delete_issue(self.state.get_issue(id_or_key))
        return Response(status=204)

    def do_admin_move(self, request, user, r, id_or_key):
        data = self.body(request)
        issue = self.state.get_issue(id_or_key)
        try:
            key = self.state.move_issue(issue, data["project"], data.get("author", "admin"))
        except KeyError as exc:
            raise SandboxError(400, [str(exc)]) from None
        return json_response({"id": str(issue.id), "key": key})

    def do_admin_update(self, request, user, r, id_or_key):
        data = dict(self.body(request))
        issue = self.state.get_issue(id_or_key)
        author = data.pop("author", "admin")
        try:
            self.state.update_issue(issue, author, **data)
        except (KeyError, ValueError) as exc:
            raise SandboxError(400, [str(exc)]) from None
        return Response(status=204)
