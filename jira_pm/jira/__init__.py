"""The only code in jira-pm that speaks HTTP: ``http`` (session, retries, errors),
``search`` (both pagination styles) and ``client`` (typed Jira calls, Cloud and Server/DC)."""

from jira_pm.jira.client import JiraClient
from jira_pm.jira.http import JiraHttp, redact

__all__ = ["JiraClient", "JiraHttp", "redact"]
