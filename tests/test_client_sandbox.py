"""Integration tests: JiraClient against the sandbox over real HTTP, in both flavours."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from jira_pm.cli import main
from jira_pm.config import Settings
from jira_pm.errors import AmbiguousWriteError, JiraAuthError, JiraNotFound
from jira_pm.jira.client import JiraClient
from jira_pm.jira.http import JiraHttp
from jira_pm.sandbox import Sandbox

pytestmark = pytest.mark.integration

FLAVOURS = ["cloud", "server"]


@pytest.fixture(scope="module", params=FLAVOURS)
def site(request):
    """A generated 300-issue site per flavour; the server caps pages at 40 issues."""
    with Sandbox(flavor=request.param, issues=300, seed=7, max_results_cap=40) as sandbox:
        yield sandbox


def client_for(site: Sandbox, *, deployment: str = "auto", bearer: bool = False,
               **kwargs) -> JiraClient:
    creds = site.credentials()
    jira = {"deployment": deployment}
    if bearer:
        jira["pat"] = creds["pat"]
    else:
        jira.update(email=creds["email"], api_token=creds["api_token"])
    settings = Settings.for_tests(url=site.url, jira=jira)
    return JiraClient.from_settings(settings.jira, sleep=lambda s: None, **kwargs)


def scope(site: Sandbox) -> str:
    """JQL for every project of the site, the way sync builds its scope."""
    return f"project in ({', '.join(sorted(site.state.projects))}) ORDER BY key DESC"


def all_ids(site: Sandbox, client: JiraClient) -> list[int]:
    return [int(i["id"]) for page in client.search(scope(site), ["summary"]) for i in page]


def test_deployment_is_detected_from_server_info(site):
    """The client reads deploymentType from the sandbox and matches its flavour."""
    client = client_for(site)
    assert client.is_cloud is (site.flavor == "cloud")
    assert client.myself().get("timeZone")


def test_search_returns_every_issue_once_in_id_order(site):
    """Paging through every issue yields each id once, ascending, in more than one page."""
    client = client_for(site, deployment=site.flavor)
    pages = list(client.search(scope(site), ["summary", "labels"],
                               page_size=50 if site.flavor == "cloud" else None))
    ids = [int(i["id"]) for page in pages for i in page]
    assert len(ids) == 300 and ids == sorted(set(ids)) and len(pages) > 1


@pytest.mark.parametrize("flavor", ["server"])
def test_an_issue_deleted_mid_search_costs_no_other_issue(flavor):
    """Deleting an issue of a page already served loses none of the issues still to come."""
    with Sandbox(flavor=flavor, issues=120, seed=5, max_results_cap=15) as site:
        client = client_for(site, deployment=flavor)
        pages = client.search(scope(site), ["summary"])
        first = next(pages)
        site.delete_issue(first[3]["id"])
        rest = [int(i["id"]) for page in pages for i in page]
        expected = sorted(int(i) for i in site.state.issues if int(i) > int(first[-1]["id"]))
    assert rest == expected and len(rest) == 120 - len(first)


def test_one_connection_carries_every_request_and_whole_search_pages(site, monkeypatch):
    """Bodies are read whole and the connection goes back to the pool: one TCP connection
    serves a search of several large pages and the requests after it."""
    import requests

    from jira_pm.jira.http import BODY_READ

    reads: list[int] = []
    iter_content = requests.Response.iter_content

    def noting_iter_content(response, chunk_size=1, decode_unicode=False):
        reads.append(chunk_size)
        return iter_content(response, chunk_size, decode_unicode)

    monkeypatch.setattr(requests.Response, "iter_content", noting_iter_content)
    client = client_for(site)
    pages = list(client.search(scope(site), ["summary", "worklog"], expand=["changelog"]))
    assert sum(len(page) for page in pages) == len(site.state.issues)
    client.myself()
    client.fields()
    pools = client.http.session.get_adapter(site.url).poolmanager.pools
    assert client.http.requests_sent >= 4
    assert [pools[key].num_connections for key in pools.keys()] == [1]
    assert reads == [BODY_READ] * client.http.requests_sent  # no 10 KB reads


def test_search_ids_and_bearer_auth(site):
    """search_ids gives ints; a server PAT (bearer) authenticates on the server flavour."""
    client = client_for(site, deployment=site.flavor, bearer=site.flavor == "server")
    ids = [i for page in client.search_ids(scope(site)) for i in page]
    assert len(ids) == 300 and all(isinstance(i, int) for i in ids)


def test_changelogs_worklogs_and_comments_read_through(site):
    """changelog, bulk_changelogs, worklogs and comments return the site's full lists."""
    client = client_for(site, deployment=site.flavor)
    first = next(iter(client.search(scope(site), ["summary"], page_size=20)))
    ids = [int(i["id"]) for i in first]
    bulk = client.bulk_changelogs(ids)
    assert set(bulk) == set(ids)
    for issue_id in ids[:5]:
        truth = site.issue_json(issue_id)
        assert [h["id"] for h in client.changelog(issue_id)] == [
            h["id"] for h in truth["changelog"]["histories"]]
        assert [h["id"] for h in bulk[issue_id]] == [h["id"] for h in client.changelog(issue_id)]
        assert [w["id"] for w in client.worklogs(issue_id)] == [
            w["id"] for w in site.worklogs(issue_id)]
        assert [c["id"] for c in client.comments(issue_id)] == [
            c["id"] for c in site.comments(issue_id)]


def test_label_edit_and_comment_round_trip(site):
    """Labels change by add/remove only, and a comment with a property can be posted and read."""
    client = client_for(site, deployment=site.flavor)
    issue_id = int(next(iter(client.search(scope(site), ["id"], page_size=1)))[0]["id"])
    before = set(site.labels(issue_id))
    client.edit_labels(issue_id, ["pm-overdue"], [], notify_users=False)
    assert set(site.labels(issue_id)) == before | {"pm-overdue"}
    client.edit_labels(issue_id, [], ["pm-overdue"])
    assert set(site.labels(issue_id)) == before
    body = ({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "flagged by jira-pm"}]}]} if client.is_cloud
        else "flagged by jira-pm")
    created = client.add_comment(issue_id, body)
    client.set_comment_property(created["id"], "jira-pm", {"fingerprint": "abc"})
    assert client.get_comment_property(created["id"], "jira-pm") == {"fingerprint": "abc"}
    assert created["id"] in [c["id"] for c in client.comments(issue_id)]
    client.delete_comment(issue_id, created["id"])
    assert created["id"] not in [c["id"] for c in client.comments(issue_id)]


def test_missing_issue_and_bad_token(site):
    """A missing issue is JiraNotFound; a wrong token is JiraAuthError over real HTTP."""
    client = client_for(site, deployment=site.flavor)
    with pytest.raises(JiraNotFound):
        client.issue(99_999_999)
    wrong = Settings.for_tests(url=site.url, jira={"email": "admin@example.com",
                                                   "api_token": "wrong-token"})
    with pytest.raises(JiraAuthError):
        JiraClient.from_settings(wrong.jira).myself()


def test_5xx_faults_are_retried_for_reads_but_not_for_comment_posts(site):
    """Injected 500s are retried for GETs; a comment POST meeting one fails after one request."""
    client = client_for(site, deployment=site.flavor)
    issue_id = int(next(iter(client.search(scope(site), ["id"], page_size=1)))[0]["id"])
    site.set_faults(error_rate=0.5)
    try:
        ids = all_ids(site, client)
        assert len(ids) == 300
        site.set_faults(error_rate=1.0)
        sent = client.http.requests_sent
        with pytest.raises(AmbiguousWriteError):
            client.add_comment(issue_id, "x" if not client.is_cloud else {
                "type": "doc", "version": 1, "content": []})
        assert client.http.requests_sent == sent + 1
    finally:
        site.set_faults(error_rate=0.0)


def test_doctor_passes_against_the_sandbox(site, tmp_path):
    """`jira-pm doctor` against a healthy sandbox exits 0 with only ✓ or ! lines."""
    creds = site.credentials()
    path = tmp_path / "jira-pm.toml"
    keys = sorted(site.state.projects)
    path.write_text(f'[jira]\nurl = "{site.url}"\n[scope]\nprojects = ["{keys[0]}"]\n')
    env = {"JIRA_EMAIL": creds["email"], "JIRA_API_TOKEN": creds["api_token"], "JIRA_PAT": "",
           "JIRA_URL": ""}
    result = CliRunner(env=env).invoke(main, ["--config", str(path), "doctor"])
    assert result.exit_code == 0, result.output
    assert "✗" not in result.output and creds["api_token"] not in result.output


class SharedClock:
    """One fake wall clock for the sandbox's rate limiter and the client's sleeps."""

    def __init__(self):
        self.now = 1_800_000_000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("retry_after", ["seconds", "http-date"])
def test_rate_limited_search_waits_retry_after_and_completes(retry_after):
    """Against a sandbox allowing 3 requests a second, every 429 is waited out per Retry-After."""
    clock = SharedClock()
    with Sandbox(flavor="cloud", issues=60, seed=2, rate_limit=3, retry_after=retry_after,
                 fault_clock=clock.time) as site:
        client = client_for(site, deployment="cloud")
        client.http = JiraHttp.from_settings(
            Settings.for_tests(url=site.url, jira={**site_basic(site)}).jira,
            sleep=clock.sleep, clock=clock.time, wall_clock=clock.time, jitter=lambda: 0.1)
        ids = [i for page in client.search_ids("project in (" + ", ".join(site.state.projects)
                                               + ")") for i in page]
        pages = list(client.search(scope(site), ["summary"], page_size=5))
    assert len(ids) == 60 and sum(len(p) for p in pages) == 60
    # Delta-seconds say 1 s; an HTTP date names the next whole second (>= 0.9 s away here).
    least = 1.1 if retry_after == "seconds" else 0.9 + 0.1
    assert clock.sleeps and all(s >= least - 1e-6 for s in clock.sleeps)
    assert client.http.requests_sent == 1 + 12 + len(clock.sleeps)


def site_basic(site: Sandbox) -> dict:
    creds = site.credentials()
    return {"email": creds["email"], "api_token": creds["api_token"]}


def test_dropped_connections_are_retried_for_reads(site):
    """With a third of connections dropped, a full read still returns every issue."""
    client = client_for(site, deployment=site.flavor)
    site.set_faults(drop_rate=0.3)
    try:
        assert len(all_ids(site, client)) == 300
    finally:
        site.set_faults(drop_rate=0.0)
    assert client.http.requests_sent > len(list(client.search(scope(site), ["id"])))


def test_id_ranges_cover_every_issue_once(site):
    """The id-range queries, searched one by one, return every issue exactly once."""
    client = client_for(site, deployment=site.flavor)
    ranges = client.search_id_ranges(scope(site), 4)
    assert len(ranges) == 4
    ids = [i for q in ranges for page in client.search_ids(q) for i in page]
    assert sorted(ids) == all_ids(site, client) and len(ids) == 300
