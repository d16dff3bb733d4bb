"""The staff's overview: what waits for the secretariat, gathered from every app in few queries.

Read by the staff home page (``/staff/``) and ``GET /api/v1/staff/summary``. Each app counts its
own rows in its queries module (:mod:`tldops.directory.queries`, :mod:`tldops.mail.queries`,
:mod:`tldops.repository.queries`, the list's moderation queue); this module, a door that may see
them all, only puts the numbers side by side. Five queries in all, whatever the size of the
community (``tests/web/test_staff_home.py`` holds it to that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from tldops.directory import queries as directory_queries
from tldops.lists import moderation
from tldops.mail import queries as mail_queries
from tldops.repository import queries as repository_queries

#: The most queries :func:`summary` may issue (held by the tests): five for the counts, and for
#: each of the next edition and the next round the first confirmation plus one look at the
#: period due (two when it has just been sent).
QUERIES = 11


@dataclass(frozen=True)
class Summary:
    directory: directory_queries.StaffCounts
    held_posts: int
    outbox: mail_queries.OutboxCounts
    edition: repository_queries.EditionGlance
    reachability: repository_queries.RoundGlance


def summary(*, now: datetime | None = None) -> Summary:
    """Every number of the staff home page."""
    now = now or timezone.now()
    return Summary(
        directory=directory_queries.staff_counts(now=now),
        held_posts=moderation.held_posts().count(),
        outbox=mail_queries.outbox_counts(),
        edition=repository_queries.edition_glance(now=now),
        reachability=repository_queries.round_glance(),
    )
