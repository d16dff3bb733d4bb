"""The Postfix path, with Debian's real Postfix: a post enters Postfix by SMTP, reaches tldops by
LMTP (transport map), and the members' copies leave tldops through Postfix to an aiosmtpd sink.

The test runs a private Postfix instance of its own: its configuration, queue and data directories
live in a temporary directory, it listens on free loopback ports only, and it is stopped at the
end. A system Postfix, if there is one, is neither read nor touched (``postfix -c DIR``).
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.lists import sinks
from tests.lists.posting import message
from tests.lists.smtp import ServersThread
from tldops.lists.models import Post
from tldops.mail import outbox, verp
from tldops.mail.models import Delivery, InboundMessage

pytestmark = pytest.mark.postfix

WAIT = 120  # seconds: an upper bound for slow machines, never a measured expectation

MASTER_CF = """\
{smtpd} inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
smtp       unix  - - n -  - smtp
relay      unix  - - n -  - smtp
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
lmtp       unix  - - n -  - lmtp
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
postlog    unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
maillog_file_prefixes = {root}
maillog_file = {root}/maillog
syslog_name = postfix-tldops-test
myhostname = mx.tldops.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
# The list's domain goes to tldops by LMTP; everything else to the sink (the Internet stand-in).
relay_domains = {domain}
transport_maps = inline:{{ {domain}=lmtp:inet:127.0.0.1:{lmtp} }}
relayhost = [127.0.0.1]:{sink}
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
biff = no
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what: str, log: Path | None = None):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    detail = log.read_text() if log and log.exists() else ""
    pytest.fail(f"gave up waiting for {what}\n{detail}")


class Postfix:
    """A private Postfix instance under ``root`` (a temporary directory)."""

    def __init__(self, root: Path, *, domain: str, lmtp: int, sink: int) -> None:
        self.root = root
        self.conf = root / "conf"
        self.port = free_port()
        self.log = root / "maillog"
        self.conf.mkdir()
        (root / "queue").mkdir()
        (root / "data").mkdir()
        shutil.chown(root / "data", user="postfix")
        (self.conf / "main.cf").write_text(
            MAIN_CF.format(root=root, domain=domain, lmtp=lmtp, sink=sink)
        )
        (self.conf / "master.cf").write_text(MASTER_CF.format(smtpd=f"127.0.0.1:{self.port}"))

    def command(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["postfix", "-c", str(self.conf), *args], capture_output=True, text=True, timeout=WAIT
        )

    def start(self) -> None:
        done = self.command("start")
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            pytest.fail(f"postfix did not start: {done.stdout}{done.stderr}\n{log}")

        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        wait_for(listening, "Postfix's smtpd", self.log)

    def stop(self) -> None:
        pid_file = self.root / "queue" / "pid" / "master.pid"
        if self.command("stop").returncode != 0:
            self.command("abort")
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            wait_for(lambda: not _alive(pid), "Postfix's master to exit", self.log)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture
def sink():
    handler = sinks.FaultySink()
    servers = ServersThread(sinks.factory(handler)).start()
    yield handler, servers.ports[0]
    servers.stop()


@pytest.fixture
def postfix(intake_server, sink, settings):
    if shutil.which("postfix") is None:
        pytest.skip("Debian's postfix is not installed (scripts/test installs it)")
    if os.geteuid() != 0:
        pytest.skip("a private Postfix instance must be started as root")
    servers, _handler = intake_server
    root = Path(tempfile.mkdtemp(prefix="tldops-pf-"))  # short: Postfix's socket paths are in it
    root.chmod(0o755)  # Postfix's own user must reach its queue and data directories
    instance = Postfix(root, domain=settings.MAIL_DOMAIN, lmtp=servers.ports[1], sink=sink[1])
    try:
        instance.start()
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_a_post_goes_through_postfix_to_tldops_and_back_out_to_every_member(
    catalog, make_member, intake_server, sink, postfix, settings
):
    settings.DMARC_MITIGATION = False  # no DNS from this test; the DMARC handler has its own
    members = [
        make_member(catalog["fr"], "Ana Lopez"),
        make_member(catalog["nl"], "Bram de Vries"),
        make_member(catalog["br"], "Carla Souza"),
    ]
    servers, handler = intake_server
    received, _port = sink

    post = message(sender="ana@nic.fr", subject="Resolver flood", body="Seen at .fr too?\n")
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=WAIT) as smtp:
        assert smtp.sendmail("ana@nic.fr", [settings.LIST_ADDRESS], post.as_bytes()) == {}

    # Postfix hands the post to the tldops intake over LMTP (its transport map) ...
    wait_for(
        lambda: InboundMessage.objects.filter(route="list-post").exists(),
        "the post to reach tldops by LMTP",
        postfix.log,
    )
    servers.run(handler.drain())
    inbound = InboundMessage.objects.get(route="list-post")
    assert inbound.rcpt_to == [settings.LIST_ADDRESS]
    raw_in = email.message_from_bytes(bytes(inbound.raw), policy=email.policy.default)
    assert "by mx.tldops.test (Postfix)" in str(raw_in["Received"])
    assert Post.objects.get(inbound=inbound).status == Post.Status.ACCEPTED

    # ... the pipeline queued one copy per member; the outbox sends them to Postfix (smarthost) ...
    settings.SMARTHOST = f"127.0.0.1:{postfix.port}"
    copies = Delivery.objects.filter(message__purpose="list-post")
    assert sorted(copies.values_list("recipient", flat=True)) == sorted(m.email for m in members)
    outbox.deliver_due()
    assert set(copies.values_list("status", flat=True)) == {"sent"}

    # ... and Postfix relays each copy, with its own VERP envelope sender, to the sink.
    def list_copies():
        return [m for m in received.messages if m.mail_from.startswith("tld-ops-bounces+")]

    wait_for(lambda: len(list_copies()) >= len(members), "the copies at the sink", postfix.log)
    by_recipient = {m.rcpt_tos[0]: m for m in list_copies()}
    assert len(list_copies()) == len(members)  # one copy each, none twice
    for delivery in copies:
        copy = by_recipient[delivery.recipient]
        assert copy.mail_from == verp.encode(delivery.pk)
        parsed = email.message_from_bytes(copy.content, policy=email.policy.default)
        assert parsed["Subject"] == "[TLD-OPS] Resolver flood"
        assert parsed["List-Id"].endswith(f"<{settings.LIST_ID}>")
        assert parsed["Message-ID"] == post["Message-ID"]
        # Received twice by Postfix: on the way in, and on the way out.
        assert sum("(Postfix)" in str(r) for r in parsed.get_all("Received")) == 2
    assert "status=sent" in postfix.log.read_text()


def test_a_bounce_to_a_verp_address_reaches_the_bounce_route_through_postfix(
    intake_server, postfix, settings
):
    servers, handler = intake_server
    address = verp.encode(4242)  # names a delivery that does not exist: handled, not crashed
    dsn = (
        b"From: MAILER-DAEMON@nic.test\r\nTo: " + address.encode() + b"\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n\r\nUser unknown.\r\n"
    )
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=WAIT) as smtp:
        assert smtp.sendmail("", [address], dsn) == {}
    wait_for(
        lambda: InboundMessage.objects.filter(route="list-bounces").exists(),
        "the bounce to reach tldops by LMTP",
        postfix.log,
    )
    servers.run(handler.drain())
    inbound = InboundMessage.objects.get(route="list-bounces")
    assert inbound.rcpt_to == [address]  # the VERP token survives Postfix intact
    assert inbound.status != InboundMessage.Status.NEW
