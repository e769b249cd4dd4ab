"""The environment's proxy and CA settings reach Jira, read once per session, not per request."""

from __future__ import annotations

import importlib.util
import shutil
import socketserver
import threading
from pathlib import Path

import pytest
import requests.utils
from requests.auth import HTTPBasicAuth

from jira_pm.errors import JiraUnreachable
from jira_pm.jira.http import JiraHttp
from jira_pm.sandbox import Sandbox

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy",
                   "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


class Recorder(socketserver.ThreadingTCPServer):
    """A loopback HTTP server that records each request line and answers a small JSON body:
    an origin server to a client that comes direct, a proxy to one sent through it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.lines: list[str] = []
        super().__init__(("127.0.0.1", 0), RecorderHandler)
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class RecorderHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline().decode("latin-1").strip()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # the headers
        self.server.lines.append(line)
        if line.startswith("CONNECT"):  # no tunnel here: refused, as a strict proxy would
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
            return
        body = b'{"name": "bot"}'
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


def short_lived(url: str) -> JiraHttp:
    """A JiraHttp that gives up after its first failed attempt."""
    return JiraHttp(url, max_retry_seconds=0, sleep=lambda s: None)


def test_http_proxy_from_the_environment_carries_the_requests(monkeypatch):
    """With HTTP_PROXY set, requests for an http:// Jira go through that proxy."""
    with Recorder() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        answer = short_lived("http://jira.example.invalid").get("/rest/api/2/myself")
    assert answer == {"name": "bot"}
    assert proxy.lines == ["GET http://jira.example.invalid/rest/api/2/myself HTTP/1.1"]


def test_https_proxy_from_the_environment_is_asked_for_a_tunnel(monkeypatch):
    """With HTTPS_PROXY set, an https:// Jira is reached through a CONNECT to that proxy."""
    with Recorder() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with pytest.raises(JiraUnreachable):
            short_lived("https://jira.example.invalid").get("/rest/api/2/myself")
    assert [line.rsplit(" ", 1)[0] for line in proxy.lines] == ["CONNECT jira.example.invalid:443"]


def test_no_proxy_sends_its_hosts_direct(monkeypatch):
    """A host NO_PROXY names is asked directly even with HTTP_PROXY set."""
    with Recorder() as site, Recorder() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert short_lived(site.url).get("/rest/api/2/myself") == {"name": "bot"}
    assert site.lines == ["GET /rest/api/2/myself HTTP/1.1"]
    assert proxy.lines == []


def test_the_environment_is_read_once_per_session_not_per_request(monkeypatch):
    """Proxy settings are looked up when the session is built, not again for each request."""
    lookups = []
    real = requests.utils.should_bypass_proxies
    monkeypatch.setattr(requests.utils, "should_bypass_proxies",
                        lambda *args, **kwargs: lookups.append(args) or real(*args, **kwargs))
    with Recorder() as site:
        http = short_lived(site.url)
        for _ in range(3):
            http.get("/rest/api/2/myself")
    assert len(site.lines) == 3
    assert len(lookups) == 1


_spec = importlib.util.spec_from_file_location(
    "bench_tls", Path(__file__).resolve().parents[1] / "bench" / "tls.py")
bench_tls = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_tls)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command-line tool is not installed")
    return bench_tls.make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.mark.integration
@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_from_the_environment_is_trusted(monkeypatch, certificate, variable):
    """A Jira whose certificate only the environment's CA bundle vouches for is answered;
    without that bundle the same request fails certificate verification."""
    cert, key = certificate
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with Sandbox(flavor="server", issues=5, tls=(cert, key)) as site:
        admin = site.credentials("admin")
        auth = HTTPBasicAuth(admin["email"], admin["api_token"])
        with pytest.raises(JiraUnreachable, match="certificate verify failed"):
            JiraHttp(site.url, auth=auth, max_retry_seconds=0).get("/rest/api/2/serverInfo")
        monkeypatch.setenv(variable, str(cert))
        info = JiraHttp(site.url, auth=auth, max_retry_seconds=0).get("/rest/api/2/serverInfo")
    assert info["deploymentType"] == "Server"
