"""The WSGI application: routing, auth, faults and counters around Jira's REST endpoints.

The endpoints live in ``handlers/`` (one mixin per family). Every handler runs
under the site lock, so a request sees (and leaves) the site consistent.
Errors are Jira-shaped JSON bodies with Jira's status codes.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import time

import orjson
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from jira_pm.sandbox.faults import Decision, Faults
from jira_pm.sandbox.handlers.admin import AdminHandlers
from jira_pm.sandbox.handlers.comments import CommentHandlers
from jira_pm.sandbox.handlers.issues import IssueHandlers
from jira_pm.sandbox.handlers.search import SearchHandlers
from jira_pm.sandbox.handlers.site import SiteHandlers
from jira_pm.sandbox.handlers.worklogs import WorklogHandlers
from jira_pm.sandbox.jql import parse
from jira_pm.sandbox.limits import CloudLimits
from jira_pm.sandbox.render import Renderer
from jira_pm.sandbox.responses import flag_arg, int_arg, json_response
from jira_pm.sandbox.routes import CLOUD_ONLY, URLS, route_name
from jira_pm.sandbox.search import SearchCache, SearchCursor
from jira_pm.sandbox.state import SandboxError, SiteState
from jira_pm.sandbox.stats import Stats

log = logging.getLogger(__name__)

UNAUTHORIZED = {"message": "Client must be authenticated to access this resource.",
                "status-code": 401}
NO_NOTIFY = ("To discard the user notification either admin or project admin permissions are "
             "required.")


def injected_error(status: int) -> Response:
    """An injected 5xx: JSON from Jira itself (500, 503), an HTML page from the proxy in
    front of it (502, 504), as real sites answer."""
    if status in (502, 504):
        title = {502: "502 Bad Gateway", 504: "504 Gateway Time-out"}[status]
        page = (f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1>"
                "</center><hr><center>nginx</center></body></html>\n")
        return Response(page, status=status, content_type="text/html")
    headers = {"Retry-After": "1"} if status == 503 else {}
    return json_response({"errorMessages": ["Internal server error (injected by the Jira "
                                            "sandbox)."], "errors": {}}, status, headers)


# The endpoints whose writes change one issue (counted by the per-issue write limit).
ISSUE_WRITES = {"issue", "comments", "comment", "comment_property", "worklogs", "worklog",
                "issue_property"}


class SandboxApp(SiteHandlers, SearchHandlers, IssueHandlers, WorklogHandlers,
                 CommentHandlers, AdminHandlers):
    """The WSGI callable for one site."""

    def __init__(self, state: SiteState, faults: Faults | None = None,
                 max_results_cap: int = 1000, limits: CloudLimits | None = None):
        self.state = state
        self.faults = faults or Faults()
        # Cloud's burst, per-issue write and quota limits (limits.py); never on Data Center.
        self.limits = limits if limits is not None and state.flavor == "cloud" else None
        self.stats = Stats()
        self.max_results_cap = max_results_cap
        self.searches = SearchCache()
        self.fragments: dict = {}  # encoded users, statuses, items... (render.py)
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
        started = time.perf_counter()
        route = route_name(rule, args.get("api"))
        self.stats.count(request.method, route)
        decision = self.faults.decide()
        if decision.kind == "drop":
            time.sleep(decision.delay)
            self._drop(environ)
            return None
        limit_headers: dict = {}
        if decision.kind == "ok" and self.limits is not None and self.limits.enabled:
            verdict = self.limits.check(request.method, route,
                                        self._issue_written(request.method, endpoint, args))
            limit_headers = verdict.headers
            if verdict.refused:
                decision = Decision("throttle", 429, decision.delay, limit_headers)
        response = self._answer(request, endpoint, args, decision)
        for name, value in limit_headers.items():
            response.headers.setdefault(name, value)
        # The latency is what the answer takes in all: the time spent building it counts
        # toward it, so a client sees the configured latency whatever the page's size.
        remaining = decision.delay - (time.perf_counter() - started)
        if remaining > 0:
            time.sleep(remaining)
        return response

    def _issue_written(self, method: str, endpoint: str, args: dict) -> int | None:
        """The id of the issue a request changes (for the per-issue write limit), else None."""
        if method not in ("PUT", "POST", "DELETE") or endpoint not in ISSUE_WRITES:
            return None
        if "comment_id" in args and "id_or_key" not in args:
            comment = self.state.comment_index.get(args["comment_id"])
            return comment.issue_id if comment is not None else None
        issue = self.state.find_issue(args.get("id_or_key"))
        return issue.id if issue is not None else None

    def _answer(self, request: Request, endpoint: str, args: dict, decision) -> Response:
        if decision.kind == "throttle":
            return self._finish(json_response(
                {"errorMessages": ["The request has been rate-limited. Please try again later."],
                 "errors": {}, "status": 429}, 429, decision.headers))
        if decision.kind == "error":
            return self._finish(injected_error(decision.status))
        user = self.authenticate(request)
        if user is None:
            headers = {"WWW-Authenticate": 'Basic realm="protected-area"'}
            if self.state.flavor == "server" and request.headers.get("Authorization"):
                headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"  # what DC sends
            return self._finish(json_response(UNAUTHORIZED, 401, headers))
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
        except Exception:  # a sandbox bug: answer like a server error, keep the traceback
            log.exception("sandbox handler %s failed", endpoint)
            return json_response({"errorMessages": [f"Internal server error in {endpoint} "
                                                    "(a Jira sandbox bug; see its log)."],
                                  "errors": {}}, 500)
        return response

    # ---- helpers --------------------------------------------------------------------------
    @staticmethod
    def body(request: Request):
        if not request.get_data():
            return {}
        try:
            data = json.loads(request.get_data())
        except ValueError:
            raise SandboxError(400, ["Unexpected character in the request body: it is not "
                                     "valid JSON."]) from None
        try:
            orjson.dumps(data)  # what is stored must encode again (responses.encode_json)
        except orjson.JSONEncodeError as exc:
            raise SandboxError(400, [f"The request body holds a value the Jira sandbox cannot "
                                     f"send back ({exc}): integers must fit in 64 bits and "
                                     f"text must not hold unpaired surrogates."]) from None
        return data

    @staticmethod
    def require_write(user, message: str = "You do not have permission to edit issues in "
                                           "this project.", issue=None) -> None:
        """403 for the read-only user, and for anyone on a locked issue."""
        if user.readonly or (issue is not None and issue.locked):
            raise SandboxError(403, [message])

    def check_notify(self, request: Request, user) -> None:
        if not flag_arg(request.args.get("notifyUsers"), True) and not user.admin:
            raise SandboxError(403, [NO_NOTIFY])

    @staticmethod
    def paged(request: Request, default: int, cap: int) -> tuple[int, int]:
        start = max(0, int_arg(request, "startAt", 0))
        size = int_arg(request, "maxResults", default)
        return start, max(0, min(size, cap))

    def search_ids(self, jql: str, user, need: int | None = None) -> tuple[list[int], bool]:
        """Ids the query matches, in order (at least ``need`` of them), and whether that is all."""
        return self.search_cursor(jql, user).take(need)

    def search_cursor(self, jql: str, user) -> SearchCursor:
        """The (cached) cursor of ``jql`` as ``user`` runs it now."""
        lag = self.faults.search_lag_ms if self.state.flavor == "cloud" else 0
        cutoff = self.state.now() - lag if lag else None
        # With a lag, what the index has seen changes with time, not only with writes.
        key = (jql, user.timezone, self.state.revision, cutoff)

        def build():
            query = parse(jql, self.state, user.timezone)
            return (query.indexed_before(cutoff) if lag else query), self.state

        return self.searches.cursor(key, build)
