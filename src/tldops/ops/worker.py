"""The worker: the jobs that run in the background, one round at a time.

A round processes inbound mail left ``new`` (:func:`tldops.lists.intake.process_pending`, crash
recovery), once an hour sends the invitation reminders that are due
(:func:`tldops.directory.actions.send_due_reminders`) and sweeps the bounce scores
(:func:`tldops.lists.bounces.sweep`), once a minute runs the periodic schedules (the monthly contact
repository, :func:`tldops.repository.editions.run_due`; the reachability challenges, reminders and
escalations, :func:`tldops.repository.reachability.run_due`), then delivers the outbox
(:func:`tldops.lists.outbox.deliver_due`), so what the first two queued leaves in the same round. Every job
is idempotent and claims its rows before working on them, so rounds may overlap across processes,
and a worker killed at any point resumes where the database says it was.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import close_old_connections, connection

log = logging.getLogger(__name__)

REMINDER_INTERVAL = 3600.0  # seconds between two runs of the reminder job
SCHEDULE_INTERVAL = 60.0  # seconds between two looks at the periodic schedules
DELIVERY_BATCH = 200


@dataclass
class Round:
    """What one round did; ``errors`` names the jobs that failed (they are retried next round)."""

    delivered: int = 0
    processed: int = 0
    reminders: int | None = None  # None: the reminder job was not due this round
    errors: list[str] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        return bool(self.delivered or self.processed)


def _refresh_connection() -> None:
    """Drop a stale or broken connection between rounds (never inside a caller's transaction)."""
    if not connection.in_atomic_block:
        close_old_connections()


class Worker:
    def __init__(self, *, interval: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self._last_reminders: float | None = None
        self._last_schedules: float | None = None

    def run_once(self) -> Round:
        """One round of every job; a failing job is logged and does not stop the others."""
        from tldops.directory import actions
        from tldops.lists import bounces, intake, outbox
        from tldops.repository import editions, reachability

        report = Round()
        _refresh_connection()
        try:
            # Inbound first and reminders next, so the mail they queue leaves in the same round.
            report.processed = self._job("inbound", report, intake.process_pending) or 0
            now = self.clock()
            if self._last_reminders is None or now - self._last_reminders >= REMINDER_INTERVAL:
                report.reminders = self._job("reminders", report, actions.send_due_reminders)
                # Bounce scores: count refused list deliveries, clear addresses reachable again.
                self._job("bounces", report, bounces.sweep)
                self._last_reminders = now
            if self._last_schedules is None or now - self._last_schedules >= SCHEDULE_INTERVAL:
                # Each is exactly-once per period, so a second worker doing the same is harmless.
                self._job("repository", report, editions.run_due)
                self._job("reachability", report, reachability.run_due)
                self._last_schedules = now
            report.delivered = self._job("deliver", report, outbox.deliver_due, DELIVERY_BATCH) or 0
        finally:
            _refresh_connection()
        return report

    @staticmethod
    def _job(name: str, report: Round, fn: Callable[..., int], *args: object) -> int | None:
        try:
            return fn(*args)
        except Exception:  # noqa: BLE001 - log and go on; the job's rows say what is left
            log.exception("worker job %s failed; it will be retried", name)
            report.errors.append(name)
            return None

    def run(self, stop: threading.Event) -> None:
        """Run rounds until ``stop`` is set; a busy round is followed at once by the next."""
        log.info("worker started (every %ss)", self.interval)
        while not stop.is_set():
            report = self.run_once()
            if report.busy:
                log.info(
                    "worker: %d delivered, %d inbound processed", report.delivered, report.processed
                )
            if report.reminders:
                log.info("worker: %d invitation reminder(s) sent", report.reminders)
            if not (report.delivered >= DELIVERY_BATCH):
                stop.wait(self.interval)
        log.info("worker stopped")
