"""Several web processes on one socket: started, replaced when they die, stopped with the supervisor."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.ops.test_run import TLDOPS, WAIT, env, http_status, wait_for  # noqa: F401 - env: fixture
from tldops.ops import supervisor


def children(pid: int) -> set[int]:
    """The live (not zombie) processes whose parent is ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":  # fields 4 (ppid) and 3 (state)
            found.add(int(stat.parent.name))
    return found


def two_workers(pid: int, without: int | None = None):
    """A predicate for wait_for: the set of ``pid``'s two children (``without`` not among them)."""

    def check() -> set[int] | None:
        found = children(pid)
        return found if len(found) == 2 and without not in found else None

    return check


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def web(env, tmp_path):  # noqa: F811 - the fixture imported above
    """``tldops web --workers 2`` on a migrated data directory; yields (process, log, address)."""
    subprocess.run([str(TLDOPS), "migrate", "-v0"], env=env, check=True, timeout=WAIT)
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(TLDOPS), "web", "--workers", "2"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    address = env["TLDOPS_WEB_LISTEN"]
    try:
        wait_for(lambda: http_status(f"http://{address}/") == 200, "the web page", proc, log)
        yield proc, log, address
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=WAIT)


def test_web_runs_two_processes_replaces_a_dead_one_and_stops_cleanly(web):
    proc, log, address = web
    assert "2 web processes (TLDOPS_WEB_WORKERS)" in log.read_text()
    first = wait_for(two_workers(proc.pid), "2 workers")

    # Served through the WSGI adapter: cookies reach the client (Django's leading space stripped).
    with urllib.request.urlopen(f"http://{address}/", timeout=30) as response:
        assert response.status == 200
        assert response.headers["Set-Cookie"].startswith("csrftoken=")

    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    replaced = wait_for(
        two_workers(proc.pid, without=victim),
        "a new worker in place of the killed one",
        proc,
        log,
    )
    assert replaced & first == first - {victim}
    assert f"web worker {victim} exited with status -9" in log.read_text()
    wait_for(lambda: http_status(f"http://{address}/") == 200, "the page again", proc, log)

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=WAIT) == 0, log.read_text()
    assert not [pid for pid in replaced if alive(pid)]
    assert "Traceback" not in log.read_text()


def test_workers_stop_by_themselves_when_the_supervisor_is_killed(web):
    proc, log, _address = web
    workers = wait_for(two_workers(proc.pid), "2 workers")
    proc.kill()  # no chance to stop them: they notice their parent is gone
    proc.wait(timeout=WAIT)
    wait_for(lambda: not [pid for pid in workers if alive(pid)], "the workers to stop", log=log)


def test_a_negative_worker_count_is_refused_naming_the_setting(env):  # noqa: F811
    env["TLDOPS_WEB_WORKERS"] = "-2"
    done = subprocess.run(
        [str(TLDOPS), "web"], env=env, capture_output=True, text=True, timeout=WAIT
    )
    assert done.returncode == 1
    assert "TLDOPS_WEB_WORKERS" in done.stderr and "-2" in done.stderr


def test_worker_count_comes_from_the_option_then_the_setting_then_the_cpus(settings):
    settings.WEB_WORKERS = 0
    assert supervisor.web_workers(None) == supervisor.default_web_workers()
    assert supervisor.default_web_workers() == len(os.sched_getaffinity(0))
    settings.WEB_WORKERS = 3
    assert supervisor.web_workers(None) == 3
    assert supervisor.web_workers(1) == 1
    assert supervisor.web_workers(0) == supervisor.default_web_workers()
    with pytest.raises(supervisor.ListenError) as exc:
        supervisor.web_workers(-1)
    assert "--workers" in str(exc.value)


class BrokenWorkers(supervisor.WebWorkers):
    """Web workers whose every start fails at once, as with a broken installation."""

    PAUSE = 0.01

    def command(self) -> list[str]:
        return [sys.executable, "-c", "import sys; sys.exit(3)"]


def test_the_supervisor_gives_up_on_workers_that_keep_failing_at_start():
    sock = supervisor.bind(("127.0.0.1", 0), what="the web server", setting="WEB_LISTEN")
    workers = BrokenWorkers(sock, 2, access_log=False)
    try:
        with pytest.raises(supervisor.WebWorkersFailed) as exc:
            asyncio.run(workers.run(asyncio.Event()))
    finally:
        sock.close()
    assert "last exit status 3" in str(exc.value)
    assert all(p.poll() is not None for p in workers.procs)
