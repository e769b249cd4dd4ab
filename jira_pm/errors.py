"""The whole exception tree of jira-pm.

Every error a user can cause or meet is one of these; the CLI prints its
message as one line and exits with its ``exit_code``::

    JiraPmError                      exit 2 unless a subclass says otherwise
    ├── UsageError                   bad command-line use                   (2)
    ├── ConfigError                  bad jira-pm.toml or environment        (2)
    ├── RulePackError                bad rule file                          (2)
    ├── StoreError                   the SQLite store is unusable           (2)
    │   └── StoreReadOnly            this user may not write the store
    ├── LockBusy                     another `jira-pm run` holds the lock   (0)
    └── JiraError                    Jira answered badly or not at all      (3)
        ├── JiraUnreachable          DNS, refused, TLS, timeouts, retries exhausted    (3)
        ├── JiraAuthError            401: credentials missing or wrong                 (3)
        ├── JiraPermissionError      403 (and 404-as-permission on writes)             (3)
        ├── JiraRateLimited          429 after every allowed wait                      (3)
        ├── JiraServerError          5xx after every allowed retry                     (3)
        ├── JiraUnexpectedResponse   HTML or other non-JSON where JSON was due         (3)
        ├── AmbiguousWriteError      a POST whose outcome is unknown (never retried)   (3)
        ├── JiraNotFound             404 with Jira's message: no such issue/project    (2)
        ├── JiraNoSuchEndpoint       404 for a path this site does not have            (2)
        ├── JiraGone                 410: an endpoint Atlassian has removed            (2)
        ├── JiraDeploymentMismatch   [jira] deployment contradicts the site            (2)
        └── JiraBadRequest           400: Jira rejected the request as asked           (2)
            └── JiraJqlRejected      400 about the search's JQL (the scope)            (2)

Exit 3 means Jira could not be reached, or refused who jira-pm is or what it
may do: a person fixes the network, the credentials or the permissions. Exit 2
means Jira refused the request itself: what was asked for (a project, JQL, an
endpoint, the deployment) comes from the configuration, so that is where the
fix goes.

Messages are written for the person at the terminal: what is wrong, where,
and how to fix it. They never contain a secret: the constructor masks every registered
credential (see ``jira_pm.redaction``).
"""

from __future__ import annotations

from jira_pm.redaction import redact

# Process exit codes (README, "Exit codes").
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_JIRA = 3
EXIT_PARTIAL = 4


class JiraPmError(Exception):
    """Base of every jira-pm error; ``exit_code`` is what the CLI exits with."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None):
        # Masked here, once, so no path that prints, logs or stores an error can leak.
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.hint = redact(hint) if hint else hint

    def one_line(self) -> str:
        """The message and, when there is one, the fix, as a single line."""
        text = self.message.replace("\n", " ").strip()
        if self.hint:
            text = f"{text} — {self.hint.strip()}"
        return text


class UsageError(JiraPmError):
    """The command line asks for something that cannot be done."""


class ConfigError(JiraPmError):
    """jira-pm.toml or the environment is missing, malformed or inconsistent."""


class RulePackError(JiraPmError):
    """A rule file is malformed: unknown check or key, wrong type, duplicate id."""


class StoreError(JiraPmError):
    """The SQLite store cannot be opened, is newer than this jira-pm, or is corrupt."""


class StoreReadOnly(StoreError):
    """The store's file or folder refuses writes (permissions, a read-only mount)."""


class LockBusy(JiraPmError):
    """Another `jira-pm run` holds the lock; overlapping cron runs are not an error.

    Only for `run`: an interactive `apply`, `clean` or `sync` reports it as a UsageError (exit 2).
    """

    exit_code = EXIT_OK


class JiraError(JiraPmError):
    """Jira could not be reached or answered with an error."""

    exit_code = EXIT_JIRA

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        method: str | None = None,
        url: str | None = None,
        detail: str | None = None,
    ):
        super().__init__(message, hint=hint)
        self.status = status
        self.method = method
        self.url = url
        self.detail = detail  # Jira's own message alone (redacted), for attributing the error


class JiraUnreachable(JiraError):
    """No HTTP answer: DNS, connection refused, TLS, timeout, retries exhausted."""


class JiraAuthError(JiraError):
    """401: the credentials are missing or wrong."""


class JiraPermissionError(JiraError):
    """403: the user may not do this (or may not see this issue)."""


class JiraNotFound(JiraError):
    """404 with Jira's own message: no such issue, project or comment, or not visible."""

    exit_code = EXIT_USAGE


class JiraNoSuchEndpoint(JiraError):
    """404 without Jira's errorMessages: this site has no such REST path (version,
    deployment or a wrong [jira] url), as opposed to a missing issue. Deliberately not a
    JiraNotFound: callers that treat 404 as "the issue is gone" must not delete on it."""

    exit_code = EXIT_USAGE


class JiraGone(JiraError):
    """410: the endpoint has been removed (Cloud's old /search)."""

    exit_code = EXIT_USAGE


class JiraDeploymentMismatch(JiraError):
    """The configured deployment (cloud/server) is not what the site is."""

    exit_code = EXIT_USAGE


class JiraBadRequest(JiraError):
    """400: Jira rejected the request; the message is Jira's own."""

    exit_code = EXIT_USAGE


class JiraJqlRejected(JiraBadRequest):
    """400 from a search about its JQL (not a parameter jira-pm chose, like maxResults)."""


class JiraRateLimited(JiraError):
    """429 still answered after every allowed wait."""


class JiraServerError(JiraError):
    """5xx still answered after every allowed retry."""


class JiraUnexpectedResponse(JiraError):
    """The answer was not the JSON Jira documents (an HTML login page, a proxy error)."""


class AmbiguousWriteError(JiraError):
    """A POST failed in a way that leaves its outcome unknown; it is not retried."""
