"""Masking secrets in any text jira-pm prints, logs or stores.

The HTTP layer registers every credential it is given (``register_secret``,
``register_basic``); ``redact`` then replaces each of them, in every form in
which it could surface, with ``***``:

- as given and with surrounding whitespace stripped (a CRLF env file adds ``\\r``);
- as ``repr`` shows it (``b'Bearer tok\\r'`` in a header error), and URL-encoded;
- the base64 ``e-mail:token`` of a Basic header;
- anything that looks like an ``Authorization`` value or a URL's ``user:password@``.

This module imports nothing from jira-pm, so errors, the runner's JSON log,
logging and the CLI can all use it.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words

_known: set[str] = set()
_lock = threading.Lock()
_PATTERNS = [
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(basic|bearer)?\s*[^\s'\",}]+"),
    # Token-like words only (a digit or base64 padding), so "Basic authentication" survives.
    re.compile(r"(?i)\b(basic|bearer)\s+(?=[A-Za-z0-9+/=._~-]*[0-9+/=])[A-Za-z0-9+/=._~-]{8,}"),
    re.compile(r"(?i)(//[^/\s:@]+:)[^@\s/]+@"),  # user:password@ in URLs
]


def _forms(value: str) -> set[str]:
    """``value`` as it may appear in text: raw, stripped, repr-escaped, URL-encoded."""
    found: set[str] = set()
    for candidate in {value, value.strip()}:
        escaped = candidate.encode("unicode_escape").decode("ascii")
        found |= {candidate, escaped, quote(candidate, safe=""), quote_plus(candidate)}
    return {form for form in found if len(form) >= MIN_SECRET_LENGTH}


def register_secret(value: str | None) -> None:
    """Remember a credential so that ``redact`` masks it, in every form, wherever it appears."""
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        with _lock:
            _known.update(_forms(value))


POSTGRES_URL_SCHEMES = ("postgresql://", "postgres://")


# libpq takes a password in the URL's userinfo or as a query parameter.
_SECRET_PARAMETERS = ("password", "sslpassword")


def _is_secret_parameter(piece: str) -> bool:
    return unquote_plus(piece.partition("=")[0]).lower() in _SECRET_PARAMETERS


def shown_url(url: str) -> str:
    """A database URL as jira-pm prints it: its passwords (userinfo, ``?password=``) as ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        netloc = f"{parts.username or ''}:{MASK}@{host}"
    query = "&".join(f"{piece.partition('=')[0]}={MASK}" if _is_secret_parameter(piece) else piece
                     for piece in parts.query.split("&")) if parts.query else ""
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def register_url_secret(url: str) -> None:
    """Remember the passwords of a database URL (userinfo and query) so ``redact`` masks them."""
    parts = urlsplit(url)
    register_secret(parts.password)
    for piece in parts.query.split("&"):
        if _is_secret_parameter(piece):
            register_secret(unquote_plus(piece.partition("=")[2]))
            register_secret(piece.partition("=")[2])


def register_basic(user: str | None, password: str | None) -> None:
    """Remember the base64 ``user:password`` a Basic header carries (and the password)."""
    register_secret(password)
    if user and password:
        for pair in {f"{user}:{password}", f"{user.strip()}:{password.strip()}"}:
            register_secret(base64.b64encode(pair.encode("utf-8")).decode("ascii"))
            register_secret(base64.b64encode(pair.encode("latin-1", "replace")).decode("ascii"))


def redact(text: str) -> str:
    """``text`` with every known credential and Authorization-like value replaced by ***."""
    with _lock:
        secrets = sorted(_known, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, MASK)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _PATTERNS[2].sub(lambda m: f"{m.group(1)}{MASK}@", text)


class RedactingFilter(logging.Filter):
    """Masks secrets in a log record's message, whatever its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: logging reports it itself
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:  # a logged traceback quotes values too
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


REDACTING_FILTER = RedactingFilter()
