"""Tests of jira_pm.config: loading, defaults, validation errors, env precedence, secrets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from jira_pm.config import Secret, Settings, is_loopback_host, load_settings
from jira_pm.errors import ConfigError

MINIMAL = """
[jira]
url = "https://example.atlassian.net/"
[scope]
projects = ["ABC"]
"""

FULL = """
[jira]
url = "https://example.atlassian.net"
deployment = "cloud"
email = "pm-bot@example.com"
api_token = "file-token"
timeout_seconds = 12.5
verify_tls = false
max_parallel = 8
max_retry_seconds = 60

[scope]
projects = ["ABC", "OPS"]
jql = "labels != wontfix"

[sync]
overlap_minutes = 7
reconcile_every_hours = 0

[fields]
story_points = "customfield_10016"
budget = "Budget"

[store]
path = "data/store.sqlite"

[calendar]
timezone = "Europe/Berlin"
working_days = ["mon", "tue", "wed", "thu"]
holidays_country = "DE"
holidays_subdivision = "BE"
holidays = ["2026-12-24", 2026-12-31]

[rules]
paths = ["rules"]
mode = "replace"
disabled = ["SC001"]

[[budget]]
epic = "ABC-12"
hours = 400

[[budget]]
version = "1.4"
project = "ABC"
amount = 120000
warn_at = 0.9

[[budget]]
project = "OPS"
hours = 10

[rates]
default = 95.0
currency = "USD"
[rates.people]
"5b10ac8d82e05b22cc7d4ef5" = 120.0

[writeback]
label_prefix = "pmx-"
exempt_label = "pmx-ignore"
exempt_issue_types = ["Epic"]
max_writes = 50
notify_users = false
comment_format = "wiki"

[log]
json_path = "logs/run.jsonl"
"""


def write(tmp_path: Path, text: str, name: str = "jira-pm.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str, env: dict | None = None) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env=env or {})
    line = info.value.one_line()
    assert "\n" not in line
    assert str(path.resolve()) in line
    return line


def test_minimal_file_gets_documented_defaults(tmp_path):
    """A file with only url and projects loads with every default from docs/configuration.md."""
    s = load_settings(write(tmp_path, MINIMAL), env={})
    assert s.source == (tmp_path / "jira-pm.toml").resolve()
    assert s.jira.url == "https://example.atlassian.net"
    assert s.jira.deployment == "auto"
    assert (s.jira.email, s.jira.api_token, s.jira.pat) == (None, None, None)
    assert (s.jira.timeout_seconds, s.jira.verify_tls, s.jira.max_parallel) == (30, True, 4)
    assert s.jira.max_retry_seconds == 300
    assert s.scope.projects == ("ABC",) and s.scope.jql is None
    assert (s.sync.overlap_minutes, s.sync.reconcile_every_hours) == (5, 24)
    assert s.fields.story_points is None
    assert s.store_path == tmp_path.resolve() / "jira-pm.sqlite"
    assert s.calendar.timezone == "UTC" and s.calendar.working_days == (0, 1, 2, 3, 4)
    assert s.calendar.extra_holidays == ()
    assert s.rules.paths == () and s.rules.mode == "extend"
    assert s.budgets == ()
    assert s.rates.default is None and s.rates.currency == "EUR" and s.rates.people == {}
    w = s.writeback
    assert (w.label_prefix, w.exempt_label, w.max_writes, w.notify_users, w.comment_format) == (
        "pm-", "pm-ignore", 500, True, "auto")
    assert s.log.json_path is None


def test_full_file_maps_every_key_to_its_attribute(tmp_path):
    """Every documented key lands on its documented attribute with its documented type."""
    s = load_settings(write(tmp_path, FULL), env={})
    base = tmp_path.resolve()
    assert s.jira.deployment == "cloud" and s.jira.email == "pm-bot@example.com"
    assert s.jira.api_token.reveal() == "file-token"
    assert (s.jira.timeout_seconds, s.jira.verify_tls, s.jira.max_parallel) == (12.5, False, 8)
    assert s.scope.projects == ("ABC", "OPS") and s.scope.jql == "labels != wontfix"
    assert s.sync.reconcile_every_hours == 0
    assert s.fields.story_points == "customfield_10016" and s.fields.budget == "Budget"
    assert s.store_path == base / "data" / "store.sqlite"
    assert s.calendar.working_days == (0, 1, 2, 3)
    assert s.calendar.extra_holidays == (date(2026, 12, 24), date(2026, 12, 31))
    assert (s.calendar.holidays_country, s.calendar.holidays_subdivision) == ("DE", "BE")
    assert s.rules.paths == (base / "rules",) and s.rules.mode == "replace"
    assert s.rules.disabled == ("SC001",)
    kinds = [(b.kind, b.ref, b.project, b.hours, b.amount, b.warn_at) for b in s.budgets]
    assert kinds == [
        ("epic", "ABC-12", None, 400.0, None, 0.8),
        ("version", "1.4", "ABC", None, 120000.0, 0.9),
        ("project", "OPS", "OPS", 10.0, None, 0.8),
    ]
    assert s.rates.default == 95.0 and s.rates.currency == "USD"
    assert s.rates.people == {"5b10ac8d82e05b22cc7d4ef5": 120.0}
    assert s.writeback.label_prefix == "pmx-" and s.writeback.exempt_issue_types == ("Epic",)
    assert s.writeback.notify_users is False and s.writeback.comment_format == "wiki"
    assert s.log.json_path == base / "logs" / "run.jsonl"


def test_environment_wins_over_the_file_for_url_and_secrets(tmp_path):
    """JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN and JIRA_PAT override the file's values."""
    env = {"JIRA_URL": "https://env.atlassian.net/", "JIRA_EMAIL": "env@example.com",
           "JIRA_API_TOKEN": "env-token", "JIRA_PAT": "env-pat"}
    s = load_settings(write(tmp_path, FULL), env=env)
    assert s.jira.url == "https://env.atlassian.net"
    assert s.jira.email == "env@example.com"
    assert s.jira.api_token.reveal() == "env-token"
    assert s.jira.pat.reveal() == "env-pat"


def test_config_path_comes_from_env_when_not_given(tmp_path):
    """Without a path, $JIRA_PM_CONFIG names the file."""
    path = write(tmp_path, MINIMAL, name="elsewhere.toml")
    assert load_settings(None, env={"JIRA_PM_CONFIG": str(path)}).source == path.resolve()


def test_secret_repr_and_str_hide_the_value():
    """repr() and str() of a Secret are '***', and settings' repr never shows the token."""
    secret = Secret("s3cr3t-XYZ")
    assert repr(secret) == "'***'" and str(secret) == "'***'"
    s = Settings.for_tests(jira={"api_token": "s3cr3t-XYZ", "email": "a@b.c"})
    assert "s3cr3t-XYZ" not in repr(s)
    assert s.jira.api_token.reveal() == "s3cr3t-XYZ"


def test_for_tests_builds_validated_settings_without_a_file(tmp_path):
    """Settings.for_tests takes url, projects, store_path and TOML-shaped sections."""
    s = Settings.for_tests(url="http://127.0.0.1:8080/", projects=["X"],
                           store_path=tmp_path / "s.sqlite", writeback={"max_writes": 3})
    assert s.source is None and s.jira.url == "http://127.0.0.1:8080"
    assert s.scope.projects == ("X",) and s.store_path == tmp_path / "s.sqlite"
    assert s.writeback.max_writes == 3
    with pytest.raises(ConfigError):
        Settings.for_tests(writeback={"max_writez": 3})


def test_missing_file_says_to_run_init(tmp_path):
    """A missing config file is one line that names the path and tells the user to run init."""
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "nope.toml", env={})
    line = info.value.one_line()
    assert "nope.toml" in line and "jira-pm init" in line and "\n" not in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL + "[jira2]\n", "[jira2]: unknown section"),
        (MINIMAL.replace("[scope]", "timeout = 3\n[scope]"), "[jira] timeout: unknown key"),
        (MINIMAL + "[sync]\noverlap_minute = 3\n", "[sync] overlap_minute: unknown key"),
        ("[scope]\nprojects=['A']\n", "[jira] url: missing"),
        (MINIMAL.replace("https://example.atlassian.net/", "http://jira.corp"),
         "[jira] url: plain http:// is refused"),
        (MINIMAL.replace("https://example.atlassian.net/", "ftp://x"), "[jira] url"),
        (MINIMAL.replace("https://example.atlassian.net/", "https://x:99999"), "[jira] url"),
        (MINIMAL.replace("https://example.atlassian.net/", "https://x/?a=1"), "[jira] url"),
        (MINIMAL + "[jira.x]\n", "[jira] x: unknown key"),
        ("[jira]\nurl='https://a.b'\n", "[scope]: neither projects nor jql"),
        (MINIMAL.replace('["ABC"]', '"ABC"'), "[scope] projects: expected a list"),
        (MINIMAL + "[calendar]\ntimezone='Mars/Olympus'\n", "[calendar] timezone"),
        (MINIMAL + "[calendar]\nworking_days=['mon','funday']\n", "[calendar] working_days[1]"),
        (MINIMAL + "[calendar]\nholidays=['24.12.2026']\n", "[calendar] holidays[0]"),
        (MINIMAL.replace("[scope]", "max_parallel = 17\n[scope]"), "[jira] max_parallel"),
        (MINIMAL.replace("[scope]", "max_parallel = true\n[scope]"), "[jira] max_parallel"),
        (MINIMAL.replace("[scope]", "deployment = 'dc'\n[scope]"), "[jira] deployment"),
        (MINIMAL.replace("[scope]", "verify_tls = 'missing.pem'\n[scope]"), "[jira] verify_tls"),
        (MINIMAL + "[rules]\nmode='merge'\n", "[rules] mode"),
        (MINIMAL + "[writeback]\nnotify_users='no'\n", "[writeback] notify_users"),
        (MINIMAL + "[writeback]\nlabel_prefix='pm '\n", "[writeback] label_prefix"),
        (MINIMAL + "[writeback]\ncomment_format='html'\n", "[writeback] comment_format"),
        (MINIMAL + "[[budget]]\nhours=3\n", "[[budget]] #1: names no subject"),
        (MINIMAL + "[[budget]]\nepic='A-1'\n", "[[budget]] #1: has neither hours nor amount"),
        (MINIMAL + "[[budget]]\nversion='1.0'\nhours=3\n", "[[budget]] #1: a version budget"),
        (MINIMAL + "[[budget]]\nepic='A-1'\namount=3\n", "[[budget]] #1 amount"),
        (MINIMAL + "[[budget]]\nepic='A-1'\nhours=3\nwarn_at=2\n", "[[budget]] #1 warn_at"),
        (MINIMAL + "[[budget]]\nepic='A-1'\nhourz=3\n", "[[budget]] #1 hourz: unknown key"),
        (MINIMAL + "[rates]\ndefault='x'\n", "[rates] default"),
        (MINIMAL + "[store]\npath=3\n", "[store] path"),
        ("[jira\n", "not valid TOML"),
    ],
)
def test_every_validation_error_is_one_line_naming_file_and_key(tmp_path, text, expected):
    """Each invalid config raises one ConfigError line naming the file, the key and a fix."""
    line = load_error(tmp_path, text)
    assert expected in line
    assert " — " in line  # the fix follows the problem


def test_bad_url_from_env_names_the_variable(tmp_path):
    """An http:// $JIRA_URL to a remote host is refused and the error names $JIRA_URL."""
    line = load_error(tmp_path, MINIMAL, env={"JIRA_URL": "http://jira.corp"})
    assert "$JIRA_URL" in line


def test_credentials_in_the_url_are_refused_without_echoing_them(tmp_path):
    """A URL with user:password@ is refused, and the password is not repeated in the error."""
    line = load_error(tmp_path, MINIMAL.replace("https://", "https://bob:hunter2@"))
    assert "[jira] url" in line and "hunter2" not in line


def test_a_bad_token_value_is_not_echoed(tmp_path):
    """A non-string api_token is rejected without printing its value."""
    line = load_error(tmp_path, MINIMAL.replace("[scope]", "api_token = 987654321\n[scope]"))
    assert "987654321" not in line and "[jira] api_token" in line


@pytest.mark.parametrize(
    ("host", "allowed"),
    [("localhost", True), ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True),
     ("10.0.0.1", False), ("jira.example.com", False), ("128.0.0.1", False)],
)
def test_plain_http_only_for_loopback(host, allowed):
    """http:// is accepted exactly for localhost, 127.0.0.0/8 and ::1."""
    assert is_loopback_host(host) is allowed
    url = f"http://[{host}]:8080" if ":" in host else f"http://{host}:8080"
    if allowed:
        assert Settings.for_tests(url=url).jira.url == url
    else:
        with pytest.raises(ConfigError):
            Settings.for_tests(url=url)


# ---- secrets as users really write them ---------------------------------------------------


@pytest.mark.parametrize("ending", ["\r", "\n", "\r\n", " ", "\t"])
def test_secrets_lose_surrounding_whitespace_from_environment_and_file(tmp_path, ending):
    """A CRLF env file or a padded TOML value yields the bare e-mail, token and PAT."""
    escaped = ending.encode("unicode_escape").decode()  # as TOML writes it: "\\r"
    text = FULL.replace('api_token = "file-token"',
                        f'api_token = "file-token{escaped}"\npat = " file-pat{escaped}"')
    from_file = load_settings(write(tmp_path, text), env={}).jira
    assert from_file.api_token.reveal() == "file-token" and from_file.pat.reveal() == "file-pat"
    env = {"JIRA_EMAIL": f"env@example.com{ending}", "JIRA_API_TOKEN": f"env-token{ending}",
           "JIRA_PAT": f"{ending}env-pat{ending}"}
    from_env = load_settings(write(tmp_path, FULL), env=env).jira
    assert from_env.email == "env@example.com"
    assert (from_env.api_token.reveal(), from_env.pat.reveal()) == ("env-token", "env-pat")


def test_a_whitespace_only_environment_secret_counts_as_unset(tmp_path):
    """JIRA_API_TOKEN set to a bare CR falls back to the file's token rather than sending ''."""
    jira = load_settings(write(tmp_path, FULL), env={"JIRA_API_TOKEN": "\r"}).jira
    assert jira.api_token.reveal() == "file-token"


@pytest.mark.parametrize(("env", "key", "where"), [
    ({"JIRA_PAT": "first-HALF-8812\r\nsecond-HALF-2188"}, None, "$JIRA_PAT"),
    ({"JIRA_API_TOKEN": "first-HALF-8812\nsecond-HALF-2188"}, None, "$JIRA_API_TOKEN"),
    ({}, 'pat = "first-HALF-8812\\nsecond-HALF-2188"', "[jira] pat"),
    ({}, 'api_token = "first-HALF-8812\\u0000second-HALF-2188"', "[jira] api_token"),
])
def test_a_secret_with_an_inner_line_break_is_refused_without_showing_it(tmp_path, env, key,
                                                                          where):
    """A token holding a line break or control character is a ConfigError naming only where."""
    text = MINIMAL.replace("[scope]", f"{key}\n[scope]") if key else MINIMAL
    line = load_error(tmp_path, text, env)
    assert where in line and "line break" in line
    assert "first-HALF" not in line and "second-HALF" not in line


@pytest.mark.parametrize("url", [
    "https://bob:hunter2-secret@jira.example.com:notaport",
    "https://bob:hunter2/secret@jira.example.com",
    "htps://bob:hunter2-secret@jira.example.com",
])
def test_a_url_with_a_password_is_refused_without_repeating_it(tmp_path, url):
    """A password in [jira] url is refused, and no other message quotes it first."""
    line = load_error(tmp_path, MINIMAL.replace("https://example.atlassian.net/", url))
    assert "user name or password" in line and "hunter2" not in line


def test_project_keys_are_read_as_jira_spells_them(tmp_path):
    """Project keys in [scope], [[budget]] and exempt_projects are upper-cased: 'shop' is SHOP."""
    settings = load_settings(write(tmp_path, '''
[jira]
url = "https://acme.atlassian.net"
[scope]
projects = ["shop", "Ops"]
[writeback]
exempt_projects = ["crm"]
[[budget]]
project = "shop"
hours = 1000
[[budget]]
version = "1.4"
project = "ops"
hours = 10
'''))
    assert settings.scope.projects == ("SHOP", "OPS")
    assert settings.writeback.exempt_projects == ("CRM",)
    assert [budget.project for budget in settings.budgets] == ["SHOP", "OPS"]
