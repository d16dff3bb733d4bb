"""Helpers for the reachability tests: a moment in a future round, the links and references in
the mails."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.message import Message

from django.utils import timezone

from tests.conftest import body_of
from tldops.repository import schedule


def next_round() -> tuple[str, datetime]:
    """A round that starts after every contact made by the test confirmed (they confirm now)."""
    return schedule.due_round(timezone.now() + timedelta(days=95))


def link_token(msg: Message) -> str:
    match = re.search(r"/reachable/([^/\s]+)/", body_of(msg))
    assert match, body_of(msg)
    return match.group(1)


def subject_ref(msg: Message) -> str:
    match = re.search(r"\[ref:(r\d+-[0-9a-f]{12})\]", str(msg["Subject"]))
    assert match, msg["Subject"]
    return match.group(1)
