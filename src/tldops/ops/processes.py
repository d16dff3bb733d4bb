"""What the supervisor, the worker and the monitor share about their processes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence

from django.db import close_old_connections, connection

log = logging.getLogger(__name__)


def refresh_connection() -> None:
    """Drop a stale or broken database connection between rounds of a long-running process
    (never inside a caller's transaction: on PostgreSQL that closes the transaction under it)."""
    if not connection.in_atomic_block:
        close_old_connections()


def terminate(procs: Sequence[subprocess.Popen], timeout: float, what: str) -> None:
    """SIGTERM every live process, wait up to ``timeout`` seconds for all of them together, then
    SIGKILL the ones still running (logged, naming ``what`` they were)."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s %d did not stop in time; killing it", what, proc.pid)
            proc.kill()
            proc.wait()


def default_web_workers() -> int:
    """One web worker process per CPU this process may run on (at least one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)
