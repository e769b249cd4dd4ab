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
        ├── JiraUnreachable          DNS, refused, TLS, timeouts, retries exhausted
        ├── JiraAuthError            401: credentials missing or wrong
        ├── JiraPermissionError      403 (and 404-as-permission on writes)
        ├── JiraNotFound             404
        ├── JiraGone                 410: an endpoint Atlassian has removed
        ├── JiraBadRequest           400: Jira rejected the request (bad JQL, body)
        ├── JiraRateLimited          429 after every allowed wait
        ├── JiraServerError          5xx after every allowed retry
        ├── JiraUnexpectedResponse   HTML or other non-JSON where JSON was due
        └── AmbiguousWriteError      a POST whose outcome is unknown (never retried)

Messages are written for the person at the terminal: what is wrong, where,
and how to fix it. They never contain a secret (see ``jira.http.redact``).
"""

from __future__ import annotations

# Process exit codes (PRODUCT.md §6).
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_JIRA = 3
EXIT_PARTIAL = 4


class JiraPmError(Exception):
    """Base of every jira-pm error; ``exit_code`` is what the CLI exits with."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

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
    """Another `jira-pm run` holds the lock; overlapping cron runs are not an error."""

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
    ):
        super().__init__(message, hint=hint)
        self.status = status
        self.method = method
        self.url = url


class JiraUnreachable(JiraError):
    """No HTTP answer: DNS, connection refused, TLS, timeout, retries exhausted."""


class JiraAuthError(JiraError):
    """401: the credentials are missing or wrong."""


class JiraPermissionError(JiraError):
    """403: the user may not do this (or may not see this issue)."""


class JiraNotFound(JiraError):
    """404: no such resource, or not visible to this user."""


class JiraGone(JiraError):
    """410: the endpoint has been removed (Cloud's old /search)."""


class JiraBadRequest(JiraError):
    """400: Jira rejected the request; the message is Jira's own."""


class JiraRateLimited(JiraError):
    """429 still answered after every allowed wait."""


class JiraServerError(JiraError):
    """5xx still answered after every allowed retry."""


class JiraUnexpectedResponse(JiraError):
    """The answer was not the JSON Jira documents (an HTML login page, a proxy error)."""


class AmbiguousWriteError(JiraError):
    """A POST failed in a way that leaves its outcome unknown; it is not retried."""
