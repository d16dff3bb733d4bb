"""`tldops run` and `tldops worker` as real processes: start, serve, receive mail, crash, resume, stop."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

TLDOPS = Path(sys.executable).with_name("tldops")
WAIT = 180  # seconds: an upper bound for slow machines, never a measured expectation


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the process ended ({proc.returncode}) before {what}:\n{log.read_text()}")
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"gave up waiting for {what}" + (f":\n{log.read_text()}" if log else ""))


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def query(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=20) as conn:
        return conn.execute(sql, args).fetchall()


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TLDOPS_")}
    return {
        **clean,
        "TLDOPS_DATA_DIR": str(tmp_path / "data"),
        "TLDOPS_WEB_LISTEN": f"127.0.0.1:{free_port()}",
        "TLDOPS_SMTP_LISTEN": f"127.0.0.1:{free_port()}",
        "TLDOPS_LMTP_LISTEN": f"127.0.0.1:{free_port()}",
        "TLDOPS_LOG_LEVEL": "WARNING",
        # No DNS here to verify the senders of the test mail with (tests/mail/test_senderauth.py
        # verifies against a real NSD); the banner then warns, which the first test checks.
        "TLDOPS_VERIFY_SENDERS": "false",
        # The scheduled monitor would sweep the catalog's real ccTLDs on the Internet; the
        # monitor's own tests run it against a simulated world on loopback.
        "TLDOPS_MONITOR_ENABLED": "false",
    }


def test_run_serves_web_and_mail_and_stops_cleanly(env, tmp_path):
    log = tmp_path / "run.log"
    web = env["TLDOPS_WEB_LISTEN"]
    smtp_host, smtp_port = env["TLDOPS_SMTP_LISTEN"].split(":")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(TLDOPS), "run", "--interval", "0.5"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: http_status(f"http://{web}/") == 200, "the web page", proc, log)
        text = log.read_text()
        assert f"http://{web}/" in text
        assert "tldops createadmin --role committee --position chair" in text
        assert "mail-sink" in text  # where outgoing mail goes
        assert "WARNING:  senders are NOT verified" in text
        db = Path(env["TLDOPS_DATA_DIR"]) / "tldops.sqlite3"
        assert query(db, "select count(*) from catalog_tld where delegated")[0][0] > 0

        with smtplib.SMTP(smtp_host, int(smtp_port), timeout=30) as smtp:
            smtp.sendmail(
                "someone@nic.test",
                ["authorise@tldops.localhost"],
                b"From: someone@nic.test\r\nSubject: our contacts\r\n\r\nContact: A <a@nic.test>\r\n",
            )
        rows = wait_for(
            lambda: query(
                db, "select status, result from lists_inboundmessage where status != 'new'"
            ),
            "the message to be processed",
            proc,
            log,
        )
        assert rows[0][0] == "rejected" and "[ref:" in rows[0][1]  # stored, processed, answered
        sink = Path(env["TLDOPS_DATA_DIR"]) / "mail-sink"
        wait_for(lambda: list(sink.glob("*.eml")), "the answer in the mail sink", proc, log)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=WAIT)
    assert code == 0, log.read_text()
    assert "tldops stopped." in log.read_text()
    assert "Traceback" not in log.read_text()


def test_run_refuses_a_port_in_use(env, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        env["TLDOPS_SMTP_LISTEN"] = f"127.0.0.1:{busy.getsockname()[1]}"
        done = subprocess.run(
            [str(TLDOPS), "run"], env=env, capture_output=True, text=True, timeout=WAIT
        )
    assert done.returncode == 1
    assert "cannot listen on 127.0.0.1" in done.stderr
    assert "TLDOPS_SMTP_LISTEN" in done.stderr


CRASH = textwrap.dedent(
    """
    import os, sys
    import django
    os.environ["DJANGO_SETTINGS_MODULE"] = "tldops.settings"
    django.setup()
    from email.message import EmailMessage
    from django.conf import settings
    from tldops.catalog.models import Tld
    from tldops.directory import actions, links, mail_door
    from tldops.directory.audit import Actor
    from tldops.mail import intake

    tld = Tld.objects.create(alabel="fr", ulabel="fr", kind="ascii", iso_code="FR",
                             admin_email="admin@nic.fr")
    invitation = actions.invite_cctld(tld, actor=Actor.system())
    msg = EmailMessage()
    msg["From"] = "admin@nic.fr"
    msg["To"] = settings.AUTHORISE_ADDRESS
    msg["Subject"] = "Re: [ref:%s]" % links.invitation_ref(invitation)
    msg.set_content("Contact: Marie Curie <marie@nic.fr>; +33 1 23 45 67 89 (office)")
    pk = intake.store("admin@nic.fr", [settings.AUTHORISE_ADDRESS], msg.as_bytes(), "authorise")

    # Fault injection: the process is killed after the door did all its work, before the commit.
    real = mail_door.process
    def process_then_die(message):
        real(message)
        os._exit(9)
    mail_door.process = process_then_die
    intake.process_message(pk)
    """
)


def test_worker_resumes_after_a_crash_in_the_middle_of_processing(env, tmp_path):
    subprocess.run([str(TLDOPS), "migrate", "-v0"], env=env, check=True, timeout=WAIT)
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH], env=env, capture_output=True, text=True, timeout=WAIT
    )
    assert crashed.returncode == 9, crashed.stderr
    db = Path(env["TLDOPS_DATA_DIR"]) / "tldops.sqlite3"
    assert query(db, "select status from lists_inboundmessage") == [("new",)]
    assert query(db, "select count(*) from directory_membership") == [(0,)]
    assert query(db, "select purpose from lists_outboundmessage") == [("invite",)]

    done = subprocess.run(
        [str(TLDOPS), "worker", "--once"], env=env, capture_output=True, text=True, timeout=WAIT
    )
    assert done.returncode == 0, done.stderr
    assert "inbound processed: 1" in done.stdout
    assert query(db, "select status from lists_inboundmessage") == [("done",)]
    assert query(db, "select authorisation_rule from directory_membership") == [("admin-address",)]
    purposes = sorted(p for (p,) in query(db, "select purpose from lists_outboundmessage"))
    assert purposes == ["authorise-reply", "confirmation", "invite"]
    assert query(db, "select status, count(*) from lists_delivery group by status") == [("sent", 3)]


def test_web_mail_and_worker_as_separate_processes(env, tmp_path):
    subprocess.run([str(TLDOPS), "migrate", "-v0"], env=env, check=True, timeout=WAIT)
    db = Path(env["TLDOPS_DATA_DIR"]) / "tldops.sqlite3"
    procs = {}
    logs = {name: tmp_path / f"{name}.log" for name in ("web", "mail", "worker")}
    try:
        for name, args in (
            ("web", ["web"]),
            ("mail", ["mail", "--smtp", "off"]),
            ("worker", ["worker", "--interval", "0.5"]),
        ):
            with logs[name].open("wb") as out:
                procs[name] = subprocess.Popen(
                    [str(TLDOPS), *args], env=env, stdout=out, stderr=subprocess.STDOUT
                )
        web = env["TLDOPS_WEB_LISTEN"]
        wait_for(lambda: http_status(f"http://{web}/") == 200, "web", procs["web"], logs["web"])
        host, port = env["TLDOPS_LMTP_LISTEN"].split(":")

        def lmtp_up() -> bool:
            with socket.socket() as s:
                return s.connect_ex((host, int(port))) == 0

        wait_for(lmtp_up, "the LMTP intake", procs["mail"], logs["mail"])
        with smtplib.LMTP(host, int(port), timeout=30) as lmtp:
            lmtp.sendmail(
                "someone@nic.test",
                ["authorise@tldops.localhost"],
                b"From: someone@nic.test\r\nSubject: hello\r\n\r\nHello\r\n",
            )
        sink = Path(env["TLDOPS_DATA_DIR"]) / "mail-sink"
        wait_for(lambda: list(sink.glob("*.eml")), "the worker to deliver the answer")
        assert query(db, "select status from lists_inboundmessage") == [("rejected",)]
        smtp_port = int(env["TLDOPS_SMTP_LISTEN"].split(":")[1])
        with socket.socket() as s:  # --smtp off: only LMTP listens
            assert s.connect_ex(("127.0.0.1", smtp_port)) != 0
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        codes = {name: proc.wait(timeout=WAIT) for name, proc in procs.items()}
    assert codes == {"web": 0, "mail": 0, "worker": 0}, {n: p.read_text() for n, p in logs.items()}


def test_the_banner_says_how_senders_are_verified(settings):
    from tldops.ops.management.common import sender_verification

    settings.LIST_TRUSTED_AUTHSERV_ID = ""
    settings.VERIFY_SENDERS = True
    assert "verified by tldops" in sender_verification()[0]
    assert "TLDOPS_LIST_TRUSTED_AUTHSERV_ID" in sender_verification(lmtp=True)[1]
    settings.LIST_TRUSTED_AUTHSERV_ID = "mx.lists.example"
    assert "mx.lists.example" in sender_verification()[0]
    settings.LIST_TRUSTED_AUTHSERV_ID = ""
    settings.VERIFY_SENDERS = False
    assert sender_verification()[0].startswith("WARNING")
