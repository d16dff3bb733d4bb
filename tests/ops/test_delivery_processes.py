"""Several delivering processes (TLDOPS_WORKER_PROCESSES): `tldops worker` starts delivery-only
helpers, they deliver a fan-out together without sending any copy twice, and they stop with it."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.lists import sinks
from tests.lists.smtp import ServersThread
from tests.ops.test_run import TLDOPS, WAIT, env, query, wait_for  # noqa: F401 - env: fixture
from tests.ops.test_web_workers import alive, children
from tldops.ops import worker

MEMBERS = 300

SETUP = textwrap.dedent(
    f"""
    import django
    django.setup()
    from tldops.mail import outbox
    msg = outbox.build_message(subject="t", body="b", to=["tld-ops@tldops.localhost"])
    outbox.enqueue(msg, purpose="list-post", recipients=[f"m{{i}}@nic.test" for i in range({MEMBERS})])
    """
)


def test_worker_processes_default_to_one_per_cpu(settings):
    from tldops.ops.supervisor import default_web_workers

    settings.WORKER_PROCESSES = 0
    assert worker.worker_processes() == default_web_workers()
    settings.WORKER_PROCESSES = 3
    assert worker.worker_processes() == 3


def start_worker(environ: dict[str, str], log: Path) -> tuple[subprocess.Popen, set[int]]:
    """``tldops worker`` with TLDOPS_WORKER_PROCESSES=3, once its 2 delivery helpers run."""
    environ.update(TLDOPS_WORKER_PROCESSES="3", DJANGO_SETTINGS_MODULE="tldops.settings")
    subprocess.run([str(TLDOPS), "migrate", "-v0"], env=environ, check=True, timeout=WAIT)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(TLDOPS), "worker", "--interval", "60"],  # only the poll can deliver
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    helpers = wait_for(
        lambda: children(proc.pid) if len(children(proc.pid)) == 2 else None,
        "2 delivery helpers",
        proc,
        log,
    )
    return proc, helpers


def test_helpers_deliver_beside_the_worker_and_stop_with_it(env, tmp_path):  # noqa: F811
    handler = sinks.FaultySink()
    servers = ServersThread(sinks.factory(handler)).start()
    try:
        env.update(TLDOPS_SMARTHOST=f"127.0.0.1:{servers.ports[0]}")
        log = tmp_path / "worker.log"
        proc, helpers = start_worker(env, log)
        subprocess.run([sys.executable, "-c", SETUP], env=env, check=True, timeout=WAIT)
        wait_for(lambda: len(handler.messages) >= MEMBERS, f"{MEMBERS} copies", proc, log)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0, log.read_text()
        assert not [pid for pid in helpers if alive(pid)]
    finally:
        servers.stop()
    assert sorted(handler.received_by().values()) == [1] * MEMBERS  # each copy exactly once
    db = tmp_path / "data" / "tldops.sqlite3"
    assert query(db, "select status, count(*) from lists_delivery group by status") == [
        ("sent", MEMBERS)
    ]
    assert "Traceback" not in log.read_text()


def test_helpers_stop_when_the_worker_is_killed(env, tmp_path):  # noqa: F811
    """A SIGKILLed worker cannot stop its helpers; they notice their parent is gone and stop."""
    log = tmp_path / "worker.log"
    proc, helpers = start_worker(env, log)
    proc.kill()
    proc.wait(timeout=WAIT)
    wait_for(lambda: not [pid for pid in helpers if alive(pid)], "helpers to stop", None, log)
