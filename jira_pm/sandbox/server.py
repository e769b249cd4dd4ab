"""``Sandbox``: a Jira-compatible site on 127.0.0.1, served over real HTTP from a thread."""

from __future__ import annotations

import errno
import gc
import socket
import threading
from pathlib import Path

from werkzeug.serving import make_server

from jira_pm.sandbox.app import SandboxApp
from jira_pm.sandbox.faults import Faults
from jira_pm.sandbox.generator import generate
from jira_pm.sandbox.keepalive import Connections, KeepAliveHandler
from jira_pm.sandbox.limits import CloudLimits
from jira_pm.sandbox.render import FieldSelection, Renderer
from jira_pm.sandbox.scenario import load_scenario
from jira_pm.sandbox.state import SiteState
from jira_pm.sandbox.timeutil import parse_duration, parse_instant


def _make_server(host: str, port: int, app, ssl_context=None):
    """A threaded werkzeug server answering HTTP/1.1 with persistent connections (see
    keepalive.py); OSError (not werkzeug's sys.exit) when the port is taken."""
    if port:
        # werkzeug prints and calls sys.exit(1) on a busy port: find out first, quietly.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    try:
        server = make_server(host, port, app, threaded=True, request_handler=KeepAliveHandler,
                             ssl_context=ssl_context)
    except SystemExit as exc:
        raise OSError(errno.EADDRINUSE, f"cannot listen on {host}:{port}") from exc
    server.connections = Connections()
    return server


class _HeapFreeze:
    """gc.freeze() while any sandbox serves, gc.unfreeze() when the last one stops.

    A 100,000-issue site is about a million objects the cyclic collector tracks; every
    full collection walks them all, in the middle of a request (measured at 100k: a
    page's p95 6.3 -> 4.0 ms, median 4.1 -> 3.6 ms). Freezing moves every object alive
    at start, the site above all, out of the collector's reach. Objects freed by
    reference counting still go at once; only cyclic garbage that was alive at start
    waits until the last sandbox stops.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._serving = 0

    def acquire(self) -> None:
        with self._lock:
            self._serving += 1
            gc.freeze()

    def release(self) -> None:
        with self._lock:
            self._serving -= 1
            if self._serving == 0:
                gc.unfreeze()


_HEAP = _HeapFreeze()


class Sandbox:
    """A local Jira site (cloud or server flavour) over generated or scenario data.

    Use as a context manager, or call ``start()`` / ``stop()``. Admin methods
    change the site as a person in Jira would (bumping ``updated`` and adding
    changelog histories).
    """

    def __init__(self, flavor: str = "cloud", issues: int = 500, seed: int = 1,
                 scenario: str | Path | dict | None = None, latency_ms: float = 0,
                 rate_limit: float | None = None, error_rate: float = 0.0,
                 drop_rate: float = 0.0, max_results_cap: int = 1000,
                 retry_after: str = "seconds", host: str = "127.0.0.1", port: int = 0,
                 clock=None, fault_clock=None, tls: tuple[str, str] | None = None,
                 search_lag_ms: int = 0, burst_limit: float | None = None,
                 issue_write_limit: float | None = None,
                 quota_limit: tuple[float, int] | None = None, near_limit_at: float = 0.2):
        if flavor not in ("cloud", "server"):
            raise ValueError(f"flavor must be 'cloud' or 'server', not {flavor!r}")
        self.flavor = flavor
        if scenario is not None:
            self.state: SiteState = load_scenario(scenario, flavor, clock=clock)
        else:
            self.state = generate(issues, seed, flavor, clock=clock)
        fault_args = {"clock": fault_clock} if fault_clock else {}
        self.faults = Faults(seed=seed, latency_ms=latency_ms, rate_limit=rate_limit,
                             error_rate=error_rate, drop_rate=drop_rate,
                             retry_after=retry_after, search_lag_ms=search_lag_ms,
                             **fault_args)
        if flavor == "server" and (burst_limit or issue_write_limit or quota_limit):
            raise ValueError("the burst, per-issue write and quota limits are Jira Cloud's: "
                             "for Data Center use rate_limit")
        # Cloud's three limits (limits.py): burst per endpoint, writes per issue, a quota.
        self.limits = CloudLimits(burst=burst_limit, issue_write=issue_write_limit,
                                  quota=quota_limit, near_limit_at=near_limit_at,
                                  retry_after=retry_after, **fault_args)
        self.app = SandboxApp(self.state, self.faults, max_results_cap, self.limits)
        self._host, self._port = host, port
        # (certfile, keyfile): serve https, for clients that insist on it (tap-jira does).
        self._tls = tuple(str(part) for part in tls) if tls else None
        self._server = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        self._server = _make_server(self._host, self._port, self.app, ssl_context=self._tls)
        self._server.daemon_threads = True
        port = self._server.socket.getsockname()[1]
        scheme = "https" if self._tls else "http"
        self.url = f"{scheme}://{self._host}:{port}"
        self.app.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"jira-sandbox-{port}", daemon=True)
        self._thread.start()
        _HEAP.acquire()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        # Clients keep idle connections in their pools: close them, so a stopped site
        # stops answering on them too.
        self._server.connections.close_all()
        self._thread.join(timeout=5)
        self._server = None
        _HEAP.release()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- credentials, counters, faults -----------------------------------------------------
    def credentials(self, user: str = "admin") -> dict:
        """email, api_token (basic auth) and pat (bearer, server flavour) of a sandbox user."""
        found = self.state.user(user)
        return {"name": found.name, "email": found.email, "api_token": found.api_token,
                "pat": found.pat}

    def stats(self) -> dict:
        return self.app.stats.snapshot()

    def reset_stats(self) -> None:
        self.app.stats.reset()

    def set_faults(self, **settings) -> None:
        """Change latency_ms, rate_limit, error_rate, drop_rate, retry_after or search_lag_ms."""
        self.faults.set(**settings)

    # ---- truth for assertions --------------------------------------------------------------
    def issue_json(self, id_or_key, api: int | None = None) -> dict:
        """The issue as GET /issue renders it, with every field and the full changelog."""
        with self.state.lock:
            issue = self.state.get_issue(id_or_key)
            renderer = self._renderer(api)
            return renderer.issue(issue, FieldSelection("*all", "*all"), "full")

    def comments(self, id_or_key, api: int | None = None) -> list[dict]:
        """Every comment of the issue, rendered (v3 bodies are ADF, v2 wiki text)."""
        with self.state.lock:
            issue = self.state.get_issue(id_or_key)
            renderer = self._renderer(api)
            return [renderer.comment(c) for c in issue.comments]

    def worklogs(self, id_or_key, api: int | None = None) -> list[dict]:
        with self.state.lock:
            issue = self.state.get_issue(id_or_key)
            renderer = self._renderer(api)
            return [renderer.worklog(w) for w in issue.worklogs]

    def labels(self, id_or_key) -> list[str]:
        with self.state.lock:
            return list(self.state.get_issue(id_or_key).labels)

    def _renderer(self, api: int | None) -> Renderer:
        api = api or (3 if self.flavor == "cloud" else 2)
        # As the admin bot sees it over HTTP (timestamps in its time zone).
        return Renderer(self.state, self.url or "http://127.0.0.1", api,
                        tz=self.state.users["admin"].timezone)

    # ---- admin changes ----------------------------------------------------------------------
    def update_issue(self, id_or_key, author: str = "admin", **changes) -> None:
        """Edit fields as a person in Jira would (see SiteState.update_issue for the keys)."""
        with self.state.lock:
            self.state.update_issue(self.state.get_issue(id_or_key), author, **changes)

    def undo_labels(self, *labels: str) -> None:
        """Accept every REST change of these labels (204) and silently undo it, as a workflow
        post-function or an automation rule reverting them would; no labels: stop."""
        with self.state.lock:
            self.state.undone_labels = set(labels)

    def lock_issue(self, id_or_key, locked: bool = True) -> None:
        """Refuse (403) every write to this issue, for anyone, as Jira does to a user who
        may browse but not edit it; reads are unaffected."""
        with self.state.lock:
            self.state.get_issue(id_or_key).locked = locked

    def delete_issue(self, id_or_key) -> None:
        with self.state.lock:
            self.state.delete_issue(self.state.get_issue(id_or_key))

    def move_issue(self, id_or_key, project_key: str, author: str = "admin") -> str:
        """Move to another project: same id, a new key (returned); the old key still resolves."""
        with self.state.lock:
            return self.state.move_issue(self.state.get_issue(id_or_key), project_key, author)

    def add_worklog(self, id_or_key, author: str = "admin", spent="1h", started=None,
                    comment: str = "", adjust_estimate: str | None = None) -> int:
        """Log work on the issue; returns the worklog id.

        ``adjust_estimate`` None (default) keeps the remaining estimate and adds no
        changelog; "auto"/"leave" behave as POST /worklog does (changelog items added).
        """
        with self.state.lock:
            issue = self.state.get_issue(id_or_key)
            start = parse_instant(started) if started is not None else self.state.now()
            worklog = self.state.add_worklog(issue, author, start, parse_duration(spent),
                                             comment, adjust=adjust_estimate)
            return worklog.id

    def delete_worklog(self, worklog_id: int, adjust_estimate: str | None = None) -> None:
        with self.state.lock:
            self.state.delete_worklog(worklog_id, adjust=adjust_estimate)

    def add_comment(self, id_or_key, body, author: str = "admin") -> int:
        with self.state.lock:
            return self.state.add_comment(self.state.get_issue(id_or_key), author, body).id

    def release_version(self, project_key: str, name: str, released: bool = True,
                        release_date: str | None = None) -> None:
        with self.state.lock:
            version = self.state.version_by_name(project_key.upper(), name)
            self.state.release_version(version, released, release_date)

    def add_version(self, project_key: str, name: str, **fields) -> int:
        with self.state.lock:
            return self.state.add_version(project_key.upper(), name, **fields).id
