"""The fault run: a post fanned out to 600 members, delivered by a real `tldops worker` process
to a sink that answers 4xx to about a fifth of recipients at random and drops connections, while
the worker is killed with SIGKILL three times mid-fan-out and restarted.

Every recipient must receive the post, and the only duplicates allowed are the copies that were
in flight at a kill: accepted by the sink but not yet recorded as sent. Those are counted at each
kill (at most twice DELIVERY_CONCURRENCY, by design: ``outbox.in_flight_limit``) and must account
for every duplicate exactly.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.lists import sinks
from tests.lists.smtp import ServersThread
from tests.ops.test_run import TLDOPS, WAIT, wait_for
from tldops.mail import outbox

MEMBERS = 600
CONCURRENCY = 8
KILL_AFTER = (100, 250, 400)  # kill when the sink has accepted this many copies

SETUP = textwrap.dedent(
    f"""
    import os
    import django
    os.environ["DJANGO_SETTINGS_MODULE"] = "tldops.settings"
    django.setup()
    from tldops.mail import outbox
    from tldops.mail.models import OutboundMessage

    with outbox.mail_language():
        msg = outbox.build_message(
            subject="[TLD-OPS] fault run", body="One post, {MEMBERS} copies.",
            to=["tld-ops@tldops.localhost"],
        )
    out = outbox.enqueue(
        msg, purpose="list-post",
        recipients=[f"member{{i:04d}}@nic{{i % 37}}.test" for i in range({MEMBERS})],
    )
    OutboundMessage.objects.filter(pk=out.pk).update(verp=True)
    """
)

VERP_ID = re.compile(r"^tld-ops-bounces\+(\d+)-\d+-[0-9a-f]+@tldops\.localhost$")  # id-day-mac


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def sink():
    handler = sinks.FaultySink(random_4xx=0.2, random_drop=0.02, max_random_faults=3, seed=11)
    servers = ServersThread(sinks.factory(handler)).start()
    yield handler, servers.ports[0]
    servers.stop()


def test_sigkill_mid_fan_out_loses_nothing_and_repeats_only_what_was_in_flight(tmp_path, sink):
    handler, port = sink
    env = {k: v for k, v in os.environ.items() if not k.startswith("TLDOPS_")}
    env.update(
        TLDOPS_DATA_DIR=str(tmp_path / "data"),
        TLDOPS_SMARTHOST=f"127.0.0.1:{port}",
        TLDOPS_DELIVERY_CONCURRENCY=str(CONCURRENCY),
        # One delivering process: the test kills it and counts what it had in flight (with
        # helpers, they would go on sending until they notice their worker is gone).
        TLDOPS_WORKER_PROCESSES="1",
        TLDOPS_DELIVERY_RETRY_BASE="0.02",  # retries after 40 ms, 80 ms … instead of minutes
        TLDOPS_DELIVERY_LEASE="1",  # a killed worker's claims are due again after a second
        TLDOPS_LOG_LEVEL="ERROR",
    )
    subprocess.run([str(TLDOPS), "migrate", "-v0"], env=env, check=True, timeout=WAIT)
    subprocess.run([sys.executable, "-c", SETUP], env=env, check=True, timeout=WAIT)
    db = Path(env["TLDOPS_DATA_DIR"]) / "tldops.sqlite3"
    recipient_of = dict(query(db, "select id, recipient from lists_delivery"))
    t0 = time.monotonic()
    assert len(recipient_of) == MEMBERS

    def start(n: int) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"worker{n}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(TLDOPS), "worker", "--interval", "0.05"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return proc, log

    in_flight: list[int] = []  # copies in flight at each kill
    extra = 0  # copies the sink accepted beyond the one the database records as sent
    for n, threshold in enumerate(KILL_AFTER):
        proc, log = start(n)
        wait_for(lambda t=threshold: len(handler.messages) >= t, f"{threshold} copies", proc, log)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=WAIT)
        # Once the dead worker's connections are closed, the sink cannot take more from it.
        wait_for(lambda: handler.open == 0, "the sink to see the connections closed")
        accepted = Counter(int(VERP_ID.match(m.mail_from).group(1)) for m in handler.messages)
        recorded = {pk for (pk,) in query(db, "select id from lists_delivery where status='sent'")}
        assert recorded <= set(accepted)  # nothing is marked sent that the MTA did not accept
        # Copies accepted but unknown to the database: they will all be sent again. The count only
        # grows at a kill (a resent copy, once recorded, leaves its first copy counted here).
        now_extra = sum(n - (pk in recorded) for pk, n in accepted.items())
        pending = query(db, "select count(*) from lists_delivery where status='pending'")[0][0]
        assert pending > 0, "the worker was meant to be killed in the middle of the fan-out"
        assert 0 <= now_extra - extra <= outbox.in_flight_limit(CONCURRENCY)
        in_flight.append(now_extra - extra)
        extra = now_extra
        print(f"kill {n + 1} at {time.monotonic() - t0:.1f}s")

    proc, log = start(len(KILL_AFTER))
    try:
        wait_for(
            lambda: not query(db, "select 1 from lists_delivery where status != 'sent'"),
            "every delivery to be sent",
            proc,
            log,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0, log.read_text()

    received = handler.received_by()
    duplicates = sum(count - 1 for count in received.values())
    print(
        f"\nfault run ({time.monotonic() - t0:.1f}s): {MEMBERS} recipients, "
        f"{len(handler.messages)} copies accepted, {len(KILL_AFTER)} SIGKILLs, in flight at "
        f"each kill {in_flight}, {duplicates} duplicates; sink faults "
        f"{dict(handler.counts)}; recipients given random faults: {len(handler.faults)}"
    )
    assert set(received) == set(recipient_of.values())  # every member got the post
    # No copy twice beyond those in flight: exactly the copies in flight at the kills, no other.
    assert duplicates == sum(in_flight)
    # The faults really happened, and each copy carried its own delivery's VERP sender.
    assert handler.counts["4xx"] > MEMBERS // 10 and handler.counts["drop"] > 0
    assert all(
        recipient_of[int(VERP_ID.match(m.mail_from).group(1))] == m.rcpt_tos[0]
        for m in handler.messages
    )
    retried = query(db, "select count(*) from lists_delivery where attempts > 1")[0][0]
    assert retried > MEMBERS // 10
