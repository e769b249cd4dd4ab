"""SQLite store: the schema (``schema``) and one module of read/write functions per concern."""

from jira_pm.store.schema import SCHEMA_VERSION, connect, transaction

__all__ = ["SCHEMA_VERSION", "connect", "transaction"]
