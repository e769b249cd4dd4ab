"""Baseline runners for bench/compare.py; each runs in its own virtualenv, never imports jira_pm."""
