"""Shared fixtures: the ../shared folder (skipped with a reason when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test saying what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is absent: these tests need ../shared/ beside the checkout (CI has it)"
        )
    return path


def load_recorded(relative: str):
    """The JSON of one file under ../shared/jira-recorded (skips when absent)."""
    return json.loads(shared_path("jira-recorded", relative).read_text(encoding="utf-8"))


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A fresh store file path in the test's temporary folder."""
    return tmp_path / "jira-pm.sqlite"
