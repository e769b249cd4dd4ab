"""A ``JiraHttp`` built from a user's ``jira.JIRA`` instance (the ``jira`` package).

The ``jira`` package is the Python ecosystem's Jira connection: a user who
already has a ``JIRA`` set up (basic, token, OAuth 1.0a, Kerberos or cookie
authentication, a CA bundle, a client certificate, proxies, extra headers)
hands it to jira-pm instead of repeating that set-up in ``jira-pm.toml``.

Only the *connection* is taken: the server URL and the session's
authentication, TLS verification, client certificate, proxies, cookies and
headers. Requests go through a fresh ``requests.Session`` with jira-pm's own
retry policy, never through the package's ``ResilientSession``: that one
retries POSTs after a connection error, which could post a comment twice.
"""

from __future__ import annotations

from typing import Any

import requests

from jira_pm.jira.http import JiraHttp


def _jira_class() -> type:
    # Imported here, not at module level: only a caller who hands in a JIRA pays for it.
    from jira import JIRA

    return JIRA


def deployment_of_jira(jira: Any) -> str | None:
    """"cloud" or "server" when the JIRA read serverInfo (``get_server_info=True``), else None."""
    kind = getattr(jira, "deploymentType", None)
    if not kind:
        return None
    return "cloud" if str(kind).lower() == "cloud" else "server"


def http_from_jira(jira: Any, **options: Any) -> JiraHttp:
    """A JiraHttp on ``jira``'s server with its session's authentication and TLS settings.

    ``options`` are JiraHttp's own (``timeout``, ``max_retry_seconds``, ...).
    Raises TypeError when ``jira`` is not a ``jira.JIRA``.
    """
    if not isinstance(jira, _jira_class()):
        raise TypeError(f"expected a jira.JIRA instance, got {type(jira).__name__}")
    theirs = jira._session  # the package keeps its session private; there is no accessor
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=16, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update(theirs.headers)
    session.cookies.update(theirs.cookies)
    session.proxies.update(theirs.proxies)
    session.cert = theirs.cert
    return JiraHttp(jira.server_url, auth=theirs.auth, verify=theirs.verify, session=session,
                    **options)
