"""The URL map of the sandbox and the names routes are counted under."""

from __future__ import annotations

from werkzeug.routing import Map, Rule

API = "/rest/api/<any('2','3'):api>"
AGILE = "/rest/agile/1.0"


def _r(path: str, endpoint: str, methods: tuple[str, ...] = ("GET",)) -> Rule:
    return Rule(path, endpoint=endpoint, methods=list(methods))


URLS = Map([
    _r(f"{API}/serverInfo", "server_info"),
    _r(f"{API}/myself", "myself"),
    _r(f"{API}/user", "user"),
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
