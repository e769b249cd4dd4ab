"""The ``Lookups`` the comment sentences need, built from a loaded site (report and explain).

The report and `explain` show a finding in the same sentences as its Jira
comment (``writeback.comments.finding_sentences``); they already hold the
whole site, so keys and names come from it rather than from another read.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from jira_pm.model import Site

if TYPE_CHECKING:
    from jira_pm.writeback.comments import Lookups


def people_names(site: Site) -> dict[str, str]:
    """Account id (or DC user name) -> display name, from everyone the store knows."""
    names: dict[str, str] = {}
    for issue in site.issues.values():
        for person in (issue.assignee, issue.creator):
            if person is not None and person.display_name:
                names[person.id] = person.display_name
        for worklog in issue.worklogs:
            if worklog.author is not None and worklog.author.display_name:
                names[worklog.author.id] = worklog.author.display_name
    return names


def site_lookups(site: Site, settings: Any, zone: tzinfo | None) -> Lookups:
    """Issue keys and people's names of the whole site, the zone, and the site's URL."""
    # Imported here, not above: it brings the HTTP stack, which the report
    # (using people_names while a site is loaded) keeps out of its peak.
    from jira_pm.writeback.comments import Lookups

    return Lookups(keys={issue.id: issue.key for issue in site.issues.values()},
                   names=people_names(site), zone=zone, site_url=settings.jira.url)
