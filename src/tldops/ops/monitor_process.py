"""The scheduled monitor: ``tldops monitor run``, and the child process ``tldops run`` keeps alive.

Every ``MONITOR_INTERVAL`` seconds the hub's own probe sweeps every delegated ccTLD of the catalog
(:func:`tldops.monitor.sweep.sweep` with the settings' options), stores the sweep, opens and closes
incidents (:func:`tldops.ops.incident_alerts.store_and_evaluate`) and, once an hour, runs the
retention (:func:`tldops.monitor.retention.run`).

The schedule lives in the database: the next sweep is due at the start of the hub's last stored
sweep plus the interval, so a restarted (or crashed) monitor neither sweeps twice in a row nor
waits a whole interval. SIGTERM or SIGINT stops it between two sweeps (a sweep is bounded by the
query timeout × tries plus a few seconds); a sweep that fails is logged and tried again after
:data:`RETRY_AFTER` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from tldops.catalog.models import Tld
from tldops.monitor import ingest, retention
from tldops.monitor import sweep as sweeping
from tldops.monitor.incidents import Changes
from tldops.monitor.models import Sweep
from tldops.ops import incident_alerts
from tldops.ops.processes import refresh_connection, terminate

log = logging.getLogger(__name__)

RETRY_AFTER = 60.0  # seconds after a failed sweep
RETENTION_EVERY = timedelta(hours=1)
LONGEST_WAIT = 30.0  # seconds the loop sleeps at most before looking at the schedule again


def next_due(now: datetime | None = None) -> datetime:
    """When the hub's next sweep is due: its last sweep's start plus the interval (now if none)."""
    now = now or timezone.now()
    last = (
        Sweep.objects.filter(probe__builtin=True)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    if last is None:
        return now
    return last + timedelta(seconds=settings.MONITOR_INTERVAL)


def sweep_once() -> Changes:
    """One sweep of every delegated ccTLD by the hub's probe, stored and evaluated."""
    tlds = list(
        Tld.objects.filter(delegated=True).order_by("alabel").values_list("alabel", flat=True)
    )
    result = sweeping.sweep(tlds, sweeping.options_from())
    for warning in result.warnings:
        log.warning("%s", warning)
    report_id = "hub-" + result.started_at.strftime("%Y%m%dT%H%M%S.%fZ")
    sweep, changes = incident_alerts.store_and_evaluate(ingest.builtin_probe(), result, report_id)
    log.info(
        "sweep %s: %d ccTLDs, %d findings, %d incident(s) opened, %d recovered",
        sweep.pk,
        result.stats.zones,
        len(result.findings),
        len(changes.opened),
        len(changes.recovered),
    )
    return changes


class Monitor:
    """The loop of ``tldops monitor run``: sweep when due, retention hourly, until ``stop``."""

    def __init__(self) -> None:
        self.retained_at: float | None = None  # monotonic time of the last retention run

    def step(self) -> float:
        """Do what is due now; return how many seconds to wait before the next step."""
        refresh_connection()
        if self.retained_at is None or (
            time.monotonic() - self.retained_at >= RETENTION_EVERY.total_seconds()
        ):
            try:
                counts = retention.run()
                log.info("retention: %s", counts)
            except Exception:  # logged; the sweeps go on
                log.exception("retention failed")
            self.retained_at = time.monotonic()
        now = timezone.now()
        due = next_due(now)
        if due > now:
            return min(LONGEST_WAIT, (due - now).total_seconds())
        try:
            sweep_once()
        except sweeping.RootUnreachable as exc:  # our network, not the ccTLDs': nothing stored
            log.warning("%s Trying again in %.0f s.", exc.message, RETRY_AFTER)
            return RETRY_AFTER
        except Exception:  # a failed sweep stores nothing; try again later
            log.exception("sweep failed; trying again in %.0f s", RETRY_AFTER)
            return RETRY_AFTER
        return 0.0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            wait = self.step()
            if wait:
                stop.wait(wait)


def run_until_signal() -> None:
    """``tldops monitor run``: the loop until SIGINT or SIGTERM (the sweep under way finishes)."""
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        Monitor().run(stop)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class MonitorChild:
    """``tldops monitor run`` as a child of ``tldops run``'s supervisor: restarted if it dies
    (after a pause growing to :data:`MAX_PAUSE`), stopped with SIGTERM with the rest."""

    STOP_TIMEOUT = 30.0  # seconds: the sweep under way finishes first
    MAX_PAUSE = 60.0

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.failures = 0

    def command(self) -> list[str]:
        return [sys.executable, "-m", "tldops", "monitor", "run"]

    def _start(self) -> None:
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL)
        self.started = time.monotonic()
        log.debug("monitor %d started", self.proc.pid)

    async def run(self, stop: asyncio.Event) -> None:
        self._start()
        try:
            while not stop.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                if stop.is_set() or self.proc is None or self.proc.poll() is None:
                    continue
                lived = time.monotonic() - self.started
                self.failures = self.failures + 1 if lived < 10 else 0
                pause = min(self.MAX_PAUSE, 2.0**self.failures)
                log.warning(
                    "the monitor exited with status %s; starting it again in %.0f s",
                    self.proc.returncode,
                    pause,
                )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                if not stop.is_set():
                    self._start()
        finally:
            if self.proc is not None:
                await asyncio.to_thread(terminate, [self.proc], self.STOP_TIMEOUT, "monitor")
