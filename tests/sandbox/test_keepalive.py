"""Persistent HTTP/1.1 connections: many requests on one connection, as a real Jira serves."""

from __future__ import annotations

import base64
import http.client
from urllib.parse import urlsplit

import pytest
from sandbox_support import shop

from jira_pm.sandbox import Sandbox

pytestmark = pytest.mark.integration


def connect(site) -> http.client.HTTPConnection:
    parts = urlsplit(site.url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


def basic(site) -> dict:
    user = site.credentials("admin")
    token = base64.b64encode(f"{user['email']}:{user['api_token']}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def ask(conn, method="GET", path="/rest/api/2/myself", body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response, response.read()


def test_one_connection_carries_many_requests():
    """Answers keep the connection open, so a client sends its next request on the same socket."""
    with Sandbox(scenario=shop()) as site:
        conn = connect(site)
        first, _ = ask(conn, headers=basic(site))
        sock = conn.sock
        assert first.status == 200 and not first.will_close
        second, body = ask(conn, path="/rest/api/2/serverInfo", headers=basic(site))
        assert second.status == 200 and b"deploymentType" in body
        assert conn.sock is sock
        conn.close()


@pytest.mark.parametrize("path, status", [
    ("/rest/api/2/myself", 200),
    ("/rest/api/2/issue/NOPE-1", 404),
    ("/rest/api/2/no/such/endpoint", 404),
])
def test_every_answer_states_its_content_length(path, status):
    """Each answer carries its exact Content-Length (never chunked), errors as well."""
    with Sandbox(scenario=shop()) as site:
        conn = connect(site)
        response, body = ask(conn, path=path, headers=basic(site))
        assert response.status == status
        assert int(response.headers["Content-Length"]) == len(body) > 0
        assert response.headers.get("Transfer-Encoding") is None
        conn.close()


def test_injected_faults_keep_the_connection_usable():
    """A 429, an injected 5xx HTML page and a 401 leave the connection serving the next request."""
    with Sandbox(scenario=shop(), rate_limit=1, fault_clock=lambda: 1000.25) as site:
        conn = connect(site)
        assert ask(conn, headers=basic(site))[0].status == 200
        assert ask(conn, headers=basic(site))[0].status == 429
        site.set_faults(rate_limit=None, error_rate=1.0)
        statuses = {ask(conn, headers=basic(site))[0].status for _ in range(8)}
        assert statuses <= {500, 502, 503, 504} and statuses & {502, 504}  # HTML from a proxy
        site.set_faults(error_rate=0.0)
        assert ask(conn)[0].status == 401
        response, body = ask(conn, headers=basic(site))
        assert response.status == 200 and b"emailAddress" in body
        conn.close()


def test_a_request_body_the_site_never_reads_does_not_spill_into_the_next_request():
    """A refused POST's unread body is skipped: the next request on the connection is read whole."""
    with Sandbox(scenario=shop()) as site:
        conn = connect(site)
        refused, _ = ask(conn, "POST", "/rest/api/2/issue/SHOP-1/comment",
                         body=b'{"body": "' + b"x" * 5000 + b'"}',
                         headers={"Content-Type": "application/json"})
        assert refused.status == 401
        response, body = ask(conn, headers=basic(site))
        assert response.status == 200 and b"emailAddress" in body
        conn.close()


def test_a_client_asking_to_close_gets_connection_close():
    """A request with Connection: close is answered with Connection: close."""
    with Sandbox(scenario=shop()) as site:
        conn = connect(site)
        response, _ = ask(conn, headers={**basic(site), "Connection": "close"})
        assert response.status == 200
        assert response.headers["Connection"] == "close" and response.will_close
        conn.close()


def test_a_stopped_sandbox_closes_the_connections_clients_keep():
    """After stop, a request on a connection kept open from before gets no answer."""
    site = Sandbox(scenario=shop()).start()
    conn = connect(site)
    assert ask(conn, headers=basic(site))[0].status == 200
    site.stop()
    with pytest.raises((http.client.HTTPException, OSError)):
        ask(conn, headers=basic(site))
    conn.close()


def test_a_chunked_request_body_reaches_the_site():
    """A body sent in chunks (no Content-Length) is read whole, as werkzeug's own handler does."""
    import json

    with Sandbox(scenario=shop()) as site:
        conn = connect(site)
        query = json.dumps({"jql": "project = SHOP", "maxResults": 1}).encode()
        conn.request("POST", "/rest/api/3/search/jql", body=iter([query]),
                     headers={**basic(site), "Content-Type": "application/json"},
                     encode_chunked=True)
        response = conn.getresponse()
        assert response.status == 200, response.read()
        assert json.loads(response.read())["issues"]
        conn.close()


def test_a_malformed_chunked_body_is_a_400_not_a_traceback(capfd):
    """A chunked body that breaks off mid-chunk gets a 400 and a closed connection, no traceback."""
    with Sandbox(scenario=shop()) as site:
        conn = connect(site)
        conn.putrequest("POST", "/rest/api/3/search/jql")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.putheader("Content-Type", "application/json")
        conn.endheaders()
        conn.send(b"zz\r\n{}\r\n0\r\n\r\n")  # not a hexadecimal chunk size
        response = conn.getresponse()
        assert response.status == 400
        assert response.will_close
        conn.close()
    assert "Traceback" not in capfd.readouterr().err
