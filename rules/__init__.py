"""jira-pm's default rule pack: the TOML files in this folder.

It lives at the top of the repository so a reader finds the rules where they
expect them, and ships inside the package as ``jira_pm.rules`` (see setup.cfg).
"""
