"""Generating, storing, signing and sending contact repository editions (exactly once a period).

OWNED BY HELPER "editions" — to be written. Public interface (others rely on it):

- ``run_due(now=None) -> int``: called by the worker every minute; sends the edition of the
  period that is due (:mod:`tldops.repository.schedule`) if none exists yet; returns 1 if it sent
  one, else 0. Exactly once per period under concurrent callers.
- ``generate(period, *, now=None) -> Edition`` (unsaved renderings) / ``publish(...)``
- ``latest() -> Edition | None``, ``get(period) -> Edition`` (NotFound)
- ``export(fmt, *, period=None) -> tuple[bytes, str, str]``: (content, content type, filename)
  for fmt in txt|csv|vcf|pdf; the current directory when period is None, else the stored edition.
- ``resend(period, *, to=None, actor) -> OutboundMessage``
"""

from __future__ import annotations

from datetime import datetime


def run_due(now: datetime | None = None) -> int:
    return 0
