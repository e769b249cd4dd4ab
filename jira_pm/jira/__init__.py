"""The only code in jira-pm that speaks HTTP: ``http`` (session, retries, errors) and
``client`` (typed Jira calls for both Cloud and Server/Data Center)."""

from jira_pm.jira.http import JiraHttp, redact

__all__ = ["JiraHttp", "redact"]
