"""``tldops probe`` against a live hub (pytest-django's live server, the real API over HTTP):
signed reports stored, the key made on the first run, the spool kept while the hub is down and
sent in order later, reports the hub refuses for good dropped. The sweep itself is replaced by
results built as data (its engine has its own tests)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.monitor.probe_helpers import known_servers, result
from tldops.directory.audit import Actor
from tldops.monitor import probe_client, probes
from tldops.monitor import sweep as sweeping
from tldops.monitor.models import Sweep


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def swept(monkeypatch):
    """The sweep replaced: each call returns a result a minute later than the previous one, and
    is remembered with the ccTLDs it was asked for."""
    calls: list[list[str]] = []
    start = datetime.now(UTC) - timedelta(hours=1)

    def fake(tlds, options):
        calls.append(list(tlds))
        return result(started_at=start + timedelta(minutes=len(calls)), tld=tlds[0])

    monkeypatch.setattr(sweeping, "sweep", fake)
    monkeypatch.setattr(sweeping, "options_from", lambda **kw: sweeping.Options())
    return calls


@pytest.fixture
def probe(catalog, make_member, settings):
    settings.MONITOR_INTERVAL = 60  # the fake sweeps are a minute apart (reports closer: 409)
    for tld in catalog.values():
        known_servers(tld)
    member = make_member(catalog["fr"], "Ana Lopez")
    return probes.create(member, "Paris office", actor=Actor.system())


def closed_port() -> str:
    """A loopback address where nothing listens: a hub that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run(hub: str, token: str, state: Path, *args: str) -> None:
    call_command("probe", "--hub", hub, "--token", token, "--state", str(state), "--once", *args)


def test_reports_reach_a_live_hub_signed_and_the_key_is_made_once(
    live_server, probe, swept, tmp_path
):
    row, token = probe
    state = tmp_path / "state"
    run(live_server.url, token, state, "--tld", "fr")
    key_file = state / probe_client.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = probe_client.load_key(state)
    row.refresh_from_db()
    assert row.public_key == probe_client.public_key_b64(key)
    assert Sweep.objects.filter(probe=row).count() == 1
    # Without --tld: the hub's list. The same key signs the second report.
    run(live_server.url, token, state)
    assert swept == [["fr"], ["br", "ca", "fr", "nl", "ua", "xn--p1ai"]]
    assert probe_client.public_key_b64(probe_client.load_key(state)) == row.public_key
    assert Sweep.objects.filter(probe=row).count() == 2
    assert not probe_client.Outbox(state / "outbox").pending()


def test_hub_down_then_the_spool_is_sent_in_order(live_server, probe, swept, tmp_path):
    row, token = probe
    state = tmp_path / "state"
    down = closed_port()
    run(down, token, state, "--tld", "fr")
    run(down, token, state, "--tld", "nl")
    outbox = probe_client.Outbox(state / "outbox")
    assert len(outbox.pending()) == 2
    assert not Sweep.objects.exists()
    run(live_server.url, token, state, "--tld", "br")
    assert not outbox.pending()
    sent = list(Sweep.objects.filter(probe=row).order_by("pk"))
    assert len(sent) == 3
    # Oldest first: stored in the order they were made.
    assert [s.started_at for s in sent] == sorted(s.started_at for s in sent)
    tlds = [s.observations.values_list("tld__alabel", flat=True).first() for s in sent]
    assert tlds == ["fr", "nl", "br"]


def test_a_refused_report_is_dropped_a_busy_hub_keeps_it(live_server, probe, swept, tmp_path):
    row, token = probe
    state = tmp_path / "state"
    outbox = probe_client.Outbox(state / "outbox")
    with _answering(503) as busy:
        run(busy, token, state, "--tld", "fr")
    with _answering(429) as throttled:
        run(throttled, token, state, "--tld", "fr")
    assert len(outbox.pending()) == 2
    probes.revoke(row, row.owner, actor=Actor.system())
    run(live_server.url, token, state, "--tld", "fr")  # 401: never accepted, dropped
    assert not outbox.pending()
    assert not Sweep.objects.exists()


class _Fixed(BaseHTTPRequestHandler):
    status = 503

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"detail": "busy"}')

    def log_message(self, *args):
        pass


class _answering:
    """A loopback HTTP server answering every POST with ``status``."""

    def __init__(self, status: int) -> None:
        handler = type("Handler", (_Fixed,), {"status": status})
        self.server = HTTPServer(("127.0.0.1", 0), handler)

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_probe_runs_on_a_fresh_data_dir_without_a_database(live_server, probe, tmp_path):
    """A real ``tldops probe`` process with the default settings and an empty data directory:
    no migration, no catalog; only its sweep is replaced (by a result of .fr)."""
    row, token = probe
    data = tmp_path / "fresh"
    script = (
        "import sys\n"
        "from tests.monitor.probe_helpers import known_servers, result\n"
        "from tldops.monitor import sweep\n"
        "sweep.sweep = lambda tlds, options: result()\n"
        "sweep.options_from = lambda **kw: sweep.Options()\n"
        "from tldops.__main__ import main\n"
        "main(sys.argv[1:])\n"
    )
    env = {
        **os.environ,
        "TLDOPS_DATA_DIR": str(data),
        "PYTHONPATH": os.pathsep.join([str(Path.cwd() / "src"), str(Path.cwd())]),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("TLDOPS_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", script, "probe", "--hub", live_server.url, "--token", token,
         "--once", "--tld", "fr"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 reports sent" in done.stdout
    assert Sweep.objects.filter(probe=row).count() == 1
    assert (data / "probe" / probe_client.KEY_FILE).exists()
    assert not (data / "tldops.sqlite3").exists() or (data / "tldops.sqlite3").stat().st_size == 0


def test_plain_http_only_to_this_machine():
    for url in ("http://127.0.0.1:8000", "http://localhost/", "http://[::1]:8000"):
        assert probe_client.check_hub(url).startswith("http://")
    assert probe_client.check_hub("https://hub.example.org/") == "https://hub.example.org"
    for url in ("http://hub.example.org", "ftp://hub.example.org", "https://u:p@hub.example"):
        with pytest.raises(probe_client.HubRefused):
            probe_client.check_hub(url)
    with pytest.raises(CommandError, match="https"):
        call_command("probe", "--hub", "http://192.0.2.1", "--token", "t", "--once")


def test_the_spool_is_bounded(tmp_path):
    outbox = probe_client.Outbox(tmp_path / "outbox", max_files=3, max_age_s=3600)
    made = [outbox.put(f'{{"n": {n}}}'.encode(), "sig") for n in range(5)]
    dropped = outbox.prune()
    assert dropped == made[:2] and outbox.pending() == made[2:]
    later = outbox.made_at(made[-1]) + 3601
    assert outbox.prune(now=later) == made[2:] and not outbox.pending()


def test_show_key_prints_the_public_key_the_hub_accepts(tmp_path, capsys):
    call_command("probe", "--state", str(tmp_path), "--show-key")
    printed = capsys.readouterr().out.strip()
    assert printed == probe_client.public_key_b64(probe_client.load_key(tmp_path))
    assert probes.clean_public_key(printed) == printed
