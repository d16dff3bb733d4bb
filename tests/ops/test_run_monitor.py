"""`tldops run` starts the scheduled monitor as a child process and stops it with the rest.

The monitor is pointed at a root server on loopback on a closed port, so that it never asks the
Internet (the catalog `tldops run` loads holds the real ccTLDs)."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from tests.ops.test_run import TLDOPS, WAIT, env, free_port, http_status, wait_for  # noqa: F401


def children(pid: int) -> dict[int, str]:
    """The live descendants of ``pid``: pid → command line."""
    out: dict[int, str] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            for child in (task / "children").read_text().split():
                cmdline = Path(f"/proc/{child}/cmdline")
                if cmdline.exists():
                    out[int(child)] = cmdline.read_bytes().replace(b"\0", b" ").decode()
                    todo.append(int(child))
    return out


def test_run_starts_and_stops_the_monitor(env, tmp_path):  # noqa: F811 - the fixture imported above
    hints = tmp_path / "named.root"
    hints.write_text(
        ".                        3600000      NS    A.ROOT-SERVERS.NET.\n"
        "A.ROOT-SERVERS.NET.      3600000      A     127.0.0.1\n"
    )
    env.update(
        TLDOPS_MONITOR_ENABLED="true",
        TLDOPS_MONITOR_ROOT_HINTS=str(hints),
        TLDOPS_MONITOR_PORT=str(free_port()),  # nothing listens there
        TLDOPS_MONITOR_IPV4_ONLY="true",
        TLDOPS_MONITOR_TIMEOUT="0.2",
        TLDOPS_MONITOR_TRIES="1",
    )
    log = tmp_path / "run.log"
    web = env["TLDOPS_WEB_LISTEN"]
    with log.open("wb") as out:
        proc = subprocess.Popen([str(TLDOPS), "run"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: http_status(f"http://{web}/") == 200, "the web page", proc, log)
        assert "Monitor:  every ccTLD's name servers every 300 s" in log.read_text()
        monitors = wait_for(
            lambda: [p for p, cmd in children(proc.pid).items() if "tldops monitor run" in cmd],
            "the monitor process",
            proc,
            log,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=WAIT)
    assert code == 0, log.read_text()
    assert (
        not Path(f"/proc/{monitors[0]}").exists()
        or "zombie" in Path(f"/proc/{monitors[0]}/status").read_text()
    )


def test_run_without_the_monitor(env, tmp_path):  # noqa: F811
    env["TLDOPS_MONITOR_ENABLED"] = "true"
    log = tmp_path / "run.log"
    web = env["TLDOPS_WEB_LISTEN"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(TLDOPS), "run", "--no-monitor"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: http_status(f"http://{web}/") == 200, "the web page", proc, log)
        assert "Monitor:" not in log.read_text()
        assert not [cmd for cmd in children(proc.pid).values() if "monitor run" in cmd]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=WAIT)
