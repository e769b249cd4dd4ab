"""The JQL subset the sandbox runs; anything outside it is a Jira-shaped 400, never a guess.

Supported: ``project``, ``key``/``issuekey``, ``id``, ``labels``, ``created``,
``updated`` with ``= != > >= < <= in`` (as each field allows), ``AND``, ``OR``,
parentheses and ``ORDER BY id|key|created|updated [ASC|DESC], ...``. Dates
are read in the calling user's time zone, as Jira does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jira_pm.sandbox.state import SandboxError

SUPPORTED_FIELDS = ("project", "key", "issuekey", "id", "labels", "created", "updated")
KNOWN_JIRA_FIELDS = {
    "status", "assignee", "reporter", "type", "issuetype", "sprint", "fixversion", "text",
    "summary", "resolution", "priority", "statuscategory", "parent", "epic link", "duedate",
    "resolved", "resolutiondate", "component", "filter", "creator", "worklogdate",
    "description", "comment", "due", "cf", "affectedversion", "labels",
}
_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>!=|>=|<=|!~|=|>|<|~|\(|\)|,)
    | (?P<word>[^\s=!<>~(),"']+)
    )""", re.VERBOSE)
_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_PERIOD = re.compile(r"^([-+]?)((?:\d+[wdhm]\s*)+)$")
_PERIOD_PART = re.compile(r"(\d+)([wdhm])")
_PERIOD_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1),
                 "m": timedelta(minutes=1)}


def jql_error(message: str) -> SandboxError:
    return SandboxError(400, [message])


class Token:
    __slots__ = ("kind", "text", "pos")

    def __init__(self, kind, text, pos):
        self.kind, self.text, self.pos = kind, text, pos


def tokenize(query: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(query):
        if query[pos:].strip() == "":
            break
        match = _TOKEN.match(query, pos)
        if not match or match.end() == pos:
            raise jql_error(f"Error in the JQL Query: The character '{query[pos]}' is a reserved "
                            f"JQL character. (line 1, character {pos + 1})")
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        start = match.start(kind)
        tokens.append(Token(kind, text, start))
        pos = match.end()
    return tokens


class Query:
    """A compiled query: ``matches(issue)`` and ``sort_key`` list."""

    def __init__(self, predicate: Callable, order: list[tuple[str, bool]], id_floor=None,
                 floor_only: bool = False):
        self.predicate = predicate
        self.order = order  # [(field, descending)]
        self.id_floor = id_floor  # (op, value) from a top-level `id > N` for keyset scans
        self.floor_only = floor_only  # the whole condition is that floor

    def indexed_before(self, cutoff: int) -> Query:
        """This query over a search index that has not yet seen changes after ``cutoff`` (ms).

        Models Jira Cloud's eventually consistent search: an issue changed in the last
        moments is missing from results until the index catches up.
        """
        predicate = self.predicate
        return Query(lambda issue: issue.updated <= cutoff and predicate(issue), self.order,
                     self.id_floor, floor_only=False)


def parse(query: str, state, timezone: str) -> Query:
    """Compile ``query`` against ``state``; raise SandboxError(400) for anything unsupported."""
    parser = _Parser(tokenize(query or ""), state, timezone, query or "")
    return parser.run()


def _key_order(key: str) -> tuple[str, int]:
    project, _, number = key.rpartition("-")
    return (project, int(number) if number.isdigit() else 0)


_ORDER_VALUES = {
    "id": lambda i: i.id,
    "key": lambda i: _key_order(i.key),
    "issuekey": lambda i: _key_order(i.key),
    "created": lambda i: i.created,
    "updated": lambda i: i.updated,
}


class _Parser:
    def __init__(self, tokens, state, timezone, text):
        self.tokens, self.state, self.tz, self.text = tokens, state, timezone, text
        self.i = 0
        self.id_floor = None
        self.floor_clause = None

    def peek(self, offset=0):
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self):
        token = self.peek()
        self.i += 1
        return token

    def at_word(self, *words) -> bool:
        token = self.peek()
        return bool(token and token.kind == "word" and token.text.lower() in words)

    def run(self) -> Query:
        predicate = lambda issue: True  # noqa: E731  (empty JQL: every issue)
        if self.peek() and not self.at_word("order"):
            predicate = self.or_expr(top=True)
        order = []
        if self.at_word("order"):
            self.take()
            if not self.at_word("by"):
                raise jql_error("Error in the JQL Query: Expecting 'by' after 'order'.")
            self.take()
            while True:
                token = self.take()
                if token is None:
                    raise jql_error("Error in the JQL Query: Expecting a field name at the end "
                                    "of the query.")
                field = token.text.lower()
                if field not in _ORDER_VALUES:
                    raise self.unsupported(token.text, "ORDER BY")
                descending = False
                if self.at_word("asc", "desc"):
                    descending = self.take().text.lower() == "desc"
                order.append((field, descending))
                if self.peek() and self.peek().text == ",":
                    self.take()
                    continue
                break
        if self.peek() is not None:
            token = self.peek()
            raise jql_error(f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got "
                            f"'{token.text}'. (line 1, character {token.pos + 1})")
        floor_only = self.id_floor is not None and predicate is self.floor_clause
        return Query(predicate, order, self.id_floor, floor_only)

    def or_expr(self, top=False):
        parts = [self.and_expr(top)]
        while self.at_word("or"):
            self.take()
            parts.append(self.and_expr(False))
        if len(parts) == 1:
            return parts[0]
        self.id_floor = None if top else self.id_floor
        return lambda issue: any(p(issue) for p in parts)

    def and_expr(self, top):
        parts = [self.term(top)]
        while self.at_word("and"):
            self.take()
            parts.append(self.term(top))
        if len(parts) == 1:
            return parts[0]
        if len(parts) == 2:
            first, second = parts
            return lambda issue: first(issue) and second(issue)
        return lambda issue: all(p(issue) for p in parts)

    def term(self, top):
        token = self.peek()
        if token is None:
            raise jql_error("Error in the JQL Query: Expecting a field name at the end of the "
                            "query.")
        if token.text == "(":
            self.take()
            inner = self.or_expr(False)
            closing = self.take()
            if closing is None or closing.text != ")":
                raise jql_error("Error in the JQL Query: Expecting ')' before the end of the "
                                "query.")
            return inner
        if self.at_word("not"):
            raise self.unsupported("NOT", "this position")
        return self.clause(top)

    def unsupported(self, what: str, where: str) -> SandboxError:
        return jql_error(
            f"The Jira sandbox does not support '{what}' in {where} (supported fields: "
            f"{', '.join(SUPPORTED_FIELDS)}; operators = != > >= < <= in; AND, OR, parentheses, "
            "ORDER BY id|key|created|updated). The query was not run.")

    def clause(self, top):
        field_token = self.take()
        field = field_token.text.lower()
        if field_token.kind != "word" or field in ("and", "or", "order", "in"):
            raise jql_error(f"Error in the JQL Query: Expecting a field name but got "
                            f"'{field_token.text}'. (line 1, character {field_token.pos + 1})")
        if field not in SUPPORTED_FIELDS:
            if field in KNOWN_JIRA_FIELDS or field.startswith("cf["):
                raise self.unsupported(field_token.text, "a condition")
            raise jql_error(f"Field '{field_token.text}' does not exist or you do not have "
                            "permission to view it.")
        op_token = self.take()
        if op_token is None:
            raise jql_error("Error in the JQL Query: Expecting operator before the end of the "
                            "query. The valid operators are '=', '!=', '<', '>', '<=', '>=', "
                            "'~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'.")
        op = op_token.text.lower()
        if op == "not" and self.at_word("in"):
            self.take()
            op = "not in"
        if op in ("in", "not in"):
            values = self.value_list()
        elif op in ("=", "!=", ">", ">=", "<", "<="):
            values = [self.value()]
        elif op in ("~", "!~", "is", "was", "changed"):
            raise self.unsupported(f"{field_token.text} {op_token.text}", "a condition")
        else:
            raise jql_error(f"Error in the JQL Query: Expecting operator but got "
                            f"'{op_token.text}'. The valid operators are '=', '!=', '<', '>', "
                            f"'<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. "
                            f"(line 1, character {op_token.pos + 1})")
        return self.build(field, op, values, top)

    def value(self):
        token = self.take()
        if token is None or token.text in ("(", ")", ","):
            raise jql_error("Error in the JQL Query: Expecting either a value, list or function "
                            "but got the end of the query.")
        return token

    def value_list(self):
        opening = self.take()
        if opening is None or opening.text != "(":
            raise jql_error("Error in the JQL Query: Expecting '(' after IN.")
        values = []
        while True:
            values.append(self.value())
            token = self.take()
            if token is None:
                raise jql_error("Error in the JQL Query: Expecting ')' before the end of the "
                                "query.")
            if token.text == ")":
                return values
            if token.text != ",":
                raise jql_error(f"Error in the JQL Query: Expecting ',' or ')' but got "
                                f"'{token.text}'. (line 1, character {token.pos + 1})")

    def build(self, field, op, tokens, top):
        if field == "project":
            if op not in ("=", "!=", "in", "not in"):
                raise self.unsupported(f"project {op}", "a condition")
            keys = set()
            for token in tokens:
                project = self._project(token.text)
                keys.add(project)
            positive = op in ("=", "in")
            return lambda issue: (issue.project_key in keys) == positive
        if field == "labels":
            if op not in ("=", "!=", "in", "not in"):
                raise self.unsupported(f"labels {op}", "a condition")
            labels = {t.text for t in tokens}
            positive = op in ("=", "in")
            if positive:
                return lambda issue: any(label in labels for label in issue.labels)
            return lambda issue: not any(label in labels for label in issue.labels)
        if field in ("key", "issuekey", "id"):
            return self.build_key(field, op, tokens, top)
        return self.build_date(field, op, tokens[0])

    def _project(self, text: str) -> str:
        state = self.state
        if text.upper() in state.projects:
            return text.upper()
        for project in state.projects.values():
            if project.id == text or project.name.lower() == text.lower():
                return project.key
        raise jql_error(f"The value '{text}' does not exist for the field 'project'.")

    def build_key(self, field, op, tokens, top):
        state = self.state
        ids = []
        for token in tokens:
            text = token.text
            if text.isdigit():
                ids.append(int(text))
                continue
            issue_id = state.keys.get(text.upper())
            if issue_id is None:
                if op in ("=", "in") and re.match(r"^[A-Za-z][A-Za-z0-9_]*-\d+$", text):
                    raise jql_error(f"An issue with key '{text}' does not exist for field "
                                    f"'{field}'.")
                if not re.match(r"^[A-Za-z][A-Za-z0-9_]*-\d+$", text):
                    raise jql_error(f"The issue key '{text}' for field '{field}' is invalid.")
                ids.append(None)
                ids[-1] = ("key", _key_order(text))
                continue
            ids.append(issue_id)
        if op in ("in", "not in", "=", "!="):
            wanted = {i for i in ids if isinstance(i, int)}
            positive = op in ("=", "in")
            return lambda issue: (issue.id in wanted) == positive
        target = ids[0]
        compare = _COMPARE[op]
        if field == "id":
            clause = lambda issue: compare(issue.id, target)  # noqa: E731
            if top and op in (">", ">="):
                self.id_floor, self.floor_clause = (op, target), clause
            return clause
        # key comparisons order within the key's project, as Jira does.
        if isinstance(target, tuple):
            project, number = target[1]
        else:
            project, number = _key_order(state.issues[target].key)
        return lambda issue: (issue.key.rpartition("-")[0] == project
                              and compare(_key_order(issue.key)[1], number))

    def build_date(self, field, op, token):
        if op not in ("=", "!=", ">", ">=", "<", "<="):
            raise self.unsupported(f"{field} {op}", "a condition")
        at = self.date_value(field, token)
        compare = _COMPARE[op]
        attribute = field
        return lambda issue: compare(getattr(issue, attribute), at)

    def date_value(self, field: str, token) -> int:
        text = token.text.strip()
        if token.kind == "word" and re.fullmatch(r"\d{9,}", text):
            return int(text)  # epoch milliseconds, unquoted
        zone = ZoneInfo(self.tz)
        period = _PERIOD.match(text.replace(" ", ""))
        if period and not re.fullmatch(r"\d+", text):
            sign = -1 if period.group(1) == "-" else 1
            delta = sum((_PERIOD_UNITS[u] * int(n) for n, u in
                         _PERIOD_PART.findall(period.group(2))), timedelta())
            return self.state.now() + sign * int(delta.total_seconds() * 1000)
        for fmt in _DATE_FORMATS:
            try:
                moment = datetime.strptime(text, fmt).replace(tzinfo=zone)
            except ValueError:
                continue
            return int(moment.timestamp() * 1000)
        raise jql_error(
            f"Date value '{text}' for field '{field}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'.")


_COMPARE = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}


def default_order() -> list[tuple[str, bool]]:
    """Without ORDER BY the sandbox sorts by key, descending (Jira's navigator default-ish)."""
    return [("key", True)]


def sort_issues(issues: list, order: list[tuple[str, bool]]) -> list:
    """Sort by the ORDER BY fields; id breaks ties so pages never overlap."""
    result = sorted(issues, key=lambda i: i.id)
    for field, descending in reversed(order):
        result.sort(key=_ORDER_VALUES[field], reverse=descending)
    return result
