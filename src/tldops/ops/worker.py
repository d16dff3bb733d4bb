"""The worker: the jobs that run in the background, one round at a time.

A round processes inbound mail left ``new`` (:func:`tldops.mail.intake.process_pending`, crash
recovery), once an hour sends the invitation reminders that are due
(:func:`tldops.directory.actions.send_due_reminders`) and sweeps the bounce scores
(:func:`tldops.lists.bounces.sweep`), every round sends the per-ccTLD slices of alerts' domain names
(:func:`tldops.alerts.slices.run_due`), once a minute runs the periodic schedules (the monthly contact
repository, :func:`tldops.repository.editions.run_due`; the reachability challenges, reminders and
escalations, :func:`tldops.repository.reachability.run_due`; the list's daily digests,
:func:`tldops.lists.digest.run_due`; the personal alert digests,
:func:`tldops.alerts.notify.run_due`; the table-top exercises' injects that are due,
:func:`tldops.playbooks.exercises.release_all_due`; the yearly review reminders of the ccTLDs'
DR/BCP plans, :func:`tldops.playbooks.plans.run_due`), then delivers the outbox
(:func:`tldops.mail.outbox.deliver_due`), so what the first two queued leaves in the same round. Every job
is idempotent and claims its rows before working on them, so rounds may overlap across processes,
and a worker killed at any point resumes where the database says it was.

A running worker (:meth:`Worker.run`) keeps one :class:`tldops.mail.outbox.Deliverer`, so its
event loop and SMTP connections serve round after round, and between rounds it looks for due
deliveries every ``DELIVERY_POLL`` seconds (one indexed query), so a post fanned out by the intake
leaves at once rather than at the next round. ``WORKER_PROCESSES`` (default one per CPU) sets how
many processes deliver: the worker itself and delivery-only helpers (:func:`serve_delivery`)
started and watched by the supervisor; claims keep them apart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tldops.ops.processes import default_web_workers, refresh_connection, terminate

log = logging.getLogger(__name__)

REMINDER_INTERVAL = 3600.0  # seconds between two runs of the reminder job
SCHEDULE_INTERVAL = 60.0  # seconds between two looks at the periodic schedules
DELIVERY_BATCH = 200  # deliveries claimed at a time (the next batch is claimed while one sends)
DELIVERY_POLL = 0.05  # seconds between two looks for due deliveries while the worker is idle


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


class Worker:
    def __init__(
        self,
        *,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        helpers: int | None = None,
    ):
        self.interval = interval
        self.clock = clock
        self.helpers = helpers  # delivery-only processes; None: WORKER_PROCESSES - 1
        self._last_reminders: float | None = None
        self._last_schedules: float | None = None

    def run_once(self, deliverer: object | None = None) -> Round:
        """One round of every job; a failing job is logged and does not stop the others.

        ``deliverer``: the :class:`~tldops.mail.outbox.Deliverer` to deliver with (a running
        worker keeps one); without it the round makes its own and closes its connections."""
        # lazy: this module is imported by fresh processes before django.setup()
        from tldops.alerts import notify, slices
        from tldops.directory import actions, bounces
        from tldops.lists import digest
        from tldops.mail import intake, outbox
        from tldops.playbooks import exercises, plans
        from tldops.repository import editions, reachability

        report = Round()
        refresh_connection()
        try:
            # Inbound first and reminders next, so the mail they queue leaves in the same round.
            report.processed = self._job("inbound", report, intake.process_pending) or 0
            # An alert's per-ccTLD slices: one indexed query when nothing is pending.
            self._job("slices", report, slices.run_due)
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
                self._job("digest", report, digest.run_due)
                self._job("alert-digest", report, notify.run_due)
                # Table-top exercises' injects whose time has come (also released on reading).
                self._job("exercise-injects", report, exercises.release_all_due)
                # A ccTLD's DR/BCP plan: the yearly review reminder, once per plan and period.
                self._job("plan-reviews", report, plans.run_due)
                self._last_schedules = now
            deliver = outbox.deliver_due if deliverer is None else deliverer.deliver_due  # type: ignore[attr-defined]
            report.delivered = self._job("deliver", report, deliver, DELIVERY_BATCH) or 0
        finally:
            refresh_connection()
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
        """Run rounds until ``stop`` is set; a busy round is followed at once by the next, and
        deliveries that fall due between rounds (a post fanned out by the intake) start within
        ``DELIVERY_POLL`` seconds."""
        from tldops.mail import outbox  # lazy: imported by fresh processes before django.setup()

        log.info("worker started (every %ss)", self.interval)
        deliverer = outbox.Deliverer()
        helpers = DeliveryHelpers(worker_processes() - 1 if self.helpers is None else self.helpers)
        helpers.start()
        try:
            while not stop.is_set():
                report = self.run_once(deliverer)
                if report.busy:
                    log.info(
                        "worker: %d delivered, %d inbound processed",
                        report.delivered,
                        report.processed,
                    )
                if report.reminders:
                    log.info("worker: %d invitation reminder(s) sent", report.reminders)
                helpers.replace_dead()
                if not (report.delivered >= DELIVERY_BATCH):
                    _deliver_until(stop, deliverer, self.clock() + self.interval, self.clock)
        finally:
            helpers.stop()
            deliverer.close()
        log.info("worker stopped")


def worker_processes() -> int:
    """How many processes deliver: ``WORKER_PROCESSES``, 0 (the default) meaning one per CPU."""
    from django.conf import settings

    return settings.WORKER_PROCESSES if settings.WORKER_PROCESSES > 0 else default_web_workers()


def _deliver_until(
    stop: threading.Event, deliverer: object, until: float, clock: Callable[[], float]
) -> None:
    """Until ``until`` (or ``stop``): every ``DELIVERY_POLL`` seconds, deliver what is due."""
    while not stop.is_set() and (left := until - clock()) > 0:
        if stop.wait(min(DELIVERY_POLL, left)):
            return
        try:
            sent = deliverer.deliver_due(DELIVERY_BATCH, stop=stop)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - logged; the rows say what is left
            log.exception("worker job deliver failed; it will be retried")
            stop.wait(min(left, 5.0))
            sent = 0
        finally:
            refresh_connection()
        if sent:
            log.info("worker: %d delivered", sent)


class _ParentGone(threading.Event):
    """A stop event that also counts as set once the process ``parent`` is gone."""

    def __init__(self, parent: int | None) -> None:
        super().__init__()
        self.parent = parent

    def is_set(self) -> bool:
        import os

        if self.parent is not None and os.getppid() != self.parent and not super().is_set():
            log.warning("the tldops worker is gone; delivery process %d stopping", os.getpid())
            self.set()
        return super().is_set()


def serve_delivery(stop: threading.Event, parent: int | None = None) -> None:
    """A delivery-only helper process (``WORKER_PROCESSES`` > 1): the outbox, nothing else.

    The other jobs stay with the one worker; more processes only help the outbox, whose batches
    are claimed so that processes never share a delivery. Stops on ``stop`` or, when ``parent``
    is given, once that process is gone.
    """
    from tldops.mail import outbox  # lazy: imported by fresh processes before django.setup()

    deliverer = outbox.Deliverer()
    try:
        while not stop.is_set():
            _deliver_until(stop, deliverer, time.monotonic() + 60.0, time.monotonic)
            refresh_connection()
    finally:
        deliverer.close()


def serve_delivery_process(parent: int) -> None:
    """The body of a delivery-only helper process (``python -c``, see :class:`DeliveryHelpers`):
    delivers until SIGTERM/SIGINT or until its worker ``parent`` is gone."""
    import os
    import signal

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
    import django

    django.setup()
    stop = _ParentGone(parent)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log.info("delivery process %d started", os.getpid())
    serve_delivery(stop)


_HELPER_MAIN = (
    "import sys; from tldops.ops.worker import serve_delivery_process; "
    "serve_delivery_process(int(sys.argv[1]))"
)


class DeliveryHelpers:
    """``count`` delivery-only processes beside the worker, replaced when they die (not more than
    once every ``PAUSE`` seconds each), stopped with it."""

    PAUSE = 5.0
    STOP_TIMEOUT = 30.0  # seconds for a helper to record what it is sending

    def __init__(self, count: int) -> None:
        self.count = max(0, count)
        self.procs: list = []
        self.started: list[float] = []

    def _spawn(self):  # type: ignore[no-untyped-def]
        import os
        import subprocess
        import sys

        cmd = [sys.executable, "-c", _HELPER_MAIN, str(os.getpid())]
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL)

    def start(self) -> None:
        if not self.count:
            return
        from django.db import connections

        connections.close_all()  # nothing of this process's database session goes to them
        for _ in range(self.count):
            self.procs.append(self._spawn())
            self.started.append(time.monotonic())
        log.info("%d delivery process(es) started (WORKER_PROCESSES)", self.count)

    def replace_dead(self) -> None:
        for slot, proc in enumerate(self.procs):
            if proc.poll() is not None and time.monotonic() - self.started[slot] >= self.PAUSE:
                log.warning(
                    "delivery process %d exited with status %s; starting another",
                    proc.pid,
                    proc.returncode,
                )
                self.procs[slot] = self._spawn()
                self.started[slot] = time.monotonic()

    def stop(self) -> None:
        terminate(self.procs, self.STOP_TIMEOUT, "delivery process")
