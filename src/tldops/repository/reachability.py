"""Periodic reachability challenges. OWNED BY HELPER "reachability" — to be written.

Public interface: ``run_due(now=None) -> int`` called by the worker every minute.
"""

from __future__ import annotations

from datetime import datetime


def run_due(now: datetime | None = None) -> int:
    return 0
