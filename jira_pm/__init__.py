"""jira-pm: the watchful part of an IT project manager's job, for Jira."""

__version__ = "0.1.0"
