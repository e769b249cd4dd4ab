"""Helpers and fixtures for the sandbox tests.

Not a conftest.py: other tests import the root `conftest` by name, which a second
conftest module would shadow. Tests import the fixtures by their ``*_fixture`` names.
"""

from __future__ import annotations

import copy

import pytest
import requests

from jira_pm.sandbox import Sandbox

SHOP = {
    "timezone": "Europe/Berlin",
    "now": "2026-11-20T12:00:00Z",
    "users": [
        {"name": "alice", "display": "Alice Example", "email": "alice@example.com"},
        {"name": "bob", "display": "Bob Example", "email": "bob@example.com"},
    ],
    "projects": [{"key": "SHOP", "name": "Web shop"}, {"key": "OPS", "name": "Operations"}],
    "versions": [
        {"project": "SHOP", "name": "1.4", "start": "2026-10-01", "release": "2026-11-10"},
        {"project": "SHOP", "name": "1.5", "start": "2026-11-11", "release": "2026-12-10"},
    ],
    "sprints": [
        {"name": "SHOP Sprint 6", "state": "closed", "start": "2026-10-26T09:00:00Z",
         "end": "2026-11-06T17:00:00Z", "complete": "2026-11-06T17:00:00Z"},
        {"name": "SHOP Sprint 7", "state": "active", "start": "2026-11-09T09:00:00Z",
         "end": "2026-11-23T17:00:00Z"},
    ],
    "issues": [
        {"key": "SHOP-10", "type": "Epic", "summary": "Checkout", "status": "In Progress",
         "created": "2026-09-20T10:00:00Z", "budget": 120},
        {"key": "SHOP-1", "type": "Story", "summary": "Pay by card", "status": "In Progress",
         "points": 5, "created": "2026-10-01T10:00:00Z", "fix_versions": ["1.4"],
         "sprints": ["SHOP Sprint 7"], "epic": "SHOP-10", "original_estimate": "16h",
         "remaining_estimate": "8h", "due": "2026-11-15", "labels": ["customer"],
         "worklogs": [{"author": "alice", "started": "2026-11-02T09:00:00Z", "spent": "6h"}],
         "comments": [{"author": "bob", "body": "Looks good", "created": "2026-11-03T08:00:00Z"}],
         "history": [
             {"at": "2026-10-02T10:00:00Z", "author": "bob", "field": "status",
              "from": "To Do", "to": "In Progress"},
             {"at": "2026-11-12T10:00:00Z", "author": "bob", "field": "Sprint", "from": "",
              "to": "SHOP Sprint 7"},
             {"at": "2026-11-13T10:00:00Z", "author": "bob", "field": "Story Points",
              "from": "3", "to": "5"},
         ]},
        {"key": "SHOP-2", "type": "Sub-task", "summary": "Card form", "status": "Done",
         "parent": "SHOP-1", "created": "2026-10-05T10:00:00Z",
         "history": [{"at": "2026-10-20T10:00:00Z", "author": "alice", "items": [
             {"field": "status", "from": "To Do", "to": "Done"},
             {"field": "resolution", "from": "", "to": "Done"}]}]},
        {"key": "OPS-1", "type": "Task", "summary": "Rotate keys", "status": "To Do",
         "created": "2026-11-18T08:30:00Z"},
    ],
}


def shop(**overrides) -> dict:
    """A fresh copy of the SHOP scenario with top-level keys replaced."""
    data = copy.deepcopy(SHOP)
    data.update(overrides)
    return data


def login(site, user: str = "admin", bearer: bool = False) -> requests.Session:
    """A requests session logged in as a sandbox user (basic auth, or bearer PAT)."""
    creds = site.credentials(user)
    s = requests.Session()
    if bearer:
        s.headers["Authorization"] = f"Bearer {creds['pat']}"
    else:
        s.auth = (creds["email"], creds["api_token"])
    return s


@pytest.fixture(name="cloud_shop")
def cloud_shop_fixture():
    """The SHOP scenario served as a Cloud site."""
    with Sandbox(flavor="cloud", scenario=shop()) as site:
        yield site


@pytest.fixture(name="server_shop")
def server_shop_fixture():
    """The SHOP scenario served as a Data Center site."""
    with Sandbox(flavor="server", scenario=shop()) as site:
        yield site


@pytest.fixture(scope="module", name="cloud_generated")
def cloud_generated_fixture():
    """A generated 600-issue Cloud site shared by a module's read-only tests."""
    with Sandbox(flavor="cloud", issues=600, seed=3) as site:
        yield site


@pytest.fixture(scope="module", name="server_generated")
def server_generated_fixture():
    """A generated 600-issue Data Center site shared by a module's read-only tests."""
    with Sandbox(flavor="server", issues=600, seed=3) as site:
        yield site

