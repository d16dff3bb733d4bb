"""Benchmark: personalised (VERP) delivery of one list post to N members into Postfix's smtp-sink.

    .venv/bin/python bench/list_delivery.py                      # N = 1000 and 5000, all three
    .venv/bin/python bench/list_delivery.py --members 1000 --skip-mailman

For each N, three measurements against a fresh ``smtp-sink`` on 127.0.0.1 (Debian's postfix):

1. **ceiling**: ``smtp-source`` sends N messages of the post's size to distinct recipients over
   ``--concurrency`` reused connections: what this machine's loopback SMTP can take.
2. **tldops**: a fresh data directory with N active members (bulk-created rows, see
   :func:`seed`), ``tldops mail`` (the intake) and one ``tldops worker`` (the outbox), with
   ``TLDOPS_WORKER_PROCESSES`` delivering processes (``--workers 1 2`` measures each), ``TLDOPS_SMARTHOST`` = the sink. The clock starts when the post is handed to the intake by LMTP
   and stops when the sink has counted N messages: rules, handlers, fan-out, archive and every
   VERP copy.
3. **Mailman**: GNU Mailman 3 core, pip-installed into its own virtualenv (``--mailman-venv``),
   with a list of N members, ``personalize = individual`` and ``verp_personalized_deliveries``;
   ``mailman start`` runs its runners; the post enters by LMTP (its lmtp runner) and the clock stops
   when the sink has counted N messages.

The sink counts messages with ``smtp-sink -c`` (its counter line ``mesg=N`` after each DATA).
Every run is bounded by ``--timeout`` seconds. Prints a Markdown table; ``--docs`` rewrites the
"List delivery" section of docs/benchmarks.md between its markers. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import email.policy
import json
import os
import platform
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import report  # bench/report.py: this script's folder is on sys.path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DOMAIN = "bench.test"
LIST_ADDRESS = f"tld-ops@{DOMAIN}"
MEMBER_DOMAIN = "members.test"  # not the list's domain: the spoofing rule holds those
BEGIN, END = "<!-- list-delivery:begin -->", "<!-- list-delivery:end -->"


def member_address(i: int) -> str:
    return f"member{i:05d}@{MEMBER_DOMAIN}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the process for port {port} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop(proc: subprocess.Popen, timeout: float = 20, sig: int = signal.SIGTERM) -> None:
    """``sig`` to the process group we started, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class Sink:
    """``smtp-sink -c`` on a free port; follows its ``mesg=N`` counter."""

    def __init__(self) -> None:
        self.port = free_port()
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        self.proc = subprocess.Popen(
            ["/usr/sbin/smtp-sink", "-c", *user, f"127.0.0.1:{self.port}", "1024"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.count = 0
        self.first: float | None = None
        self.changed = threading.Condition()
        threading.Thread(target=self._follow, daemon=True).start()
        wait_port(self.port, 10, self.proc)

    def _follow(self) -> None:
        tail = b""
        assert self.proc.stdout is not None
        while chunk := os.read(self.proc.stdout.fileno(), 65536):
            tail = (tail + chunk)[-200:]
            found = re.findall(rb"mesg=(\d+)", tail)
            if found:
                count = int(found[-1])
                with self.changed:
                    if count and self.first is None:
                        self.first = time.monotonic()
                    self.count = count
                    self.changed.notify_all()

    def wait_for(self, n: int, timeout: float) -> float | None:
        """Monotonic time at which the counter reached ``n``; None on timeout."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.count < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(min(left, 1.0))
            return time.monotonic()

    def close(self) -> None:
        stop(self.proc, 5)


class NxDns:
    """A loopback DNS server answering NXDOMAIN to every question, in a thread of this process.

    The DMARC handler looks up ``_dmarc.<author's domain>``; with no resolver at all each look-up
    waits for dnspython's timeout. This stands in for a local caching resolver that knows the
    answer (no DMARC record), so the run measures the list and not a DNS timeout.
    """

    def __init__(self) -> None:
        import dns.flags
        import dns.message
        import dns.rcode

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

        def serve() -> None:
            while True:
                try:
                    wire, peer = self.sock.recvfrom(4096)
                except OSError:
                    return
                with contextlib.suppress(Exception):
                    answer = dns.message.make_response(dns.message.from_wire(wire))
                    answer.set_rcode(dns.rcode.NXDOMAIN)
                    answer.flags |= dns.flags.AA
                    self.sock.sendto(answer.to_wire(), peer)

        threading.Thread(target=serve, daemon=True).start()

    def close(self) -> None:
        self.sock.close()


#: The post enters by LMTP as from the MTA in front (Postfix with OpenDMARC in production), whose
#: Authentication-Results tldops trusts (TLDOPS_LIST_TRUSTED_AUTHSERV_ID): the sender is verified
#: by one header read, as in a real deployment, not by DNS look-ups against the NXDOMAIN server.
MTA = "mx.bench.test"


def make_post(sender: str, size: int) -> bytes:
    msg = EmailMessage()
    msg["Authentication-Results"] = (
        f"{MTA}; spf=pass smtp.mailfrom={sender.rpartition('@')[2]}; "
        f"dmarc=pass header.from={sender.rpartition('@')[2]}"
    )
    msg["From"] = f"Member Zero <{sender}>"
    msg["To"] = LIST_ADDRESS
    msg["Subject"] = "Incident: resolver abuse from AS64500"
    msg["Message-ID"] = f"<bench-{time.time_ns()}@{DOMAIN}>"
    msg["Date"] = dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    line = "We see a reflection attack against our resolvers; details and indicators below.\n"
    msg.set_content(line * max(1, size // len(line)))
    return msg.as_bytes(policy=email.policy.SMTP)


def lmtp_submit(port: int, sender: str, data: bytes) -> None:
    with smtplib.LMTP("127.0.0.1", port, timeout=60) as lmtp:
        refused = lmtp.sendmail(sender, [LIST_ADDRESS], data)
        if refused:
            raise SystemExit(f"the LMTP intake on {port} refused the post: {refused}")


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of process group ``pgid``."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # fields[0] is the state; pgrp is the 5th field of stat
                ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def settle(pgid: int, timeout: float = 120) -> None:
    """Wait until process group ``pgid`` is idle: under 0.05 s of CPU in half a second."""
    deadline = time.monotonic() + timeout
    before = group_cpu(pgid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = group_cpu(pgid)
        if now - before < 0.05:
            return
        before = now


def result(name: str, n: int, seconds: float | None, **extra: object) -> dict:
    row = {"setup": name, "members": n, "seconds": seconds, **extra}
    row["per_second"] = round(n / seconds) if seconds else None
    row["load"] = round(os.getloadavg()[0], 1)  # the machine may be shared: say how busy it was
    return row


# --- 1. the ceiling -------------------------------------------------------------------------------


def run_ceiling(n: int, size: int, concurrency: int, timeout: float) -> dict:
    sink = Sink()
    try:
        started = time.monotonic()
        subprocess.run(
            [
                "/usr/sbin/smtp-source",
                *("-s", str(concurrency), "-m", str(n), "-l", str(size)),
                *("-d", "-N", "-f", f"tld-ops-bounces@{DOMAIN}", "-t", member_address(0)),
                f"127.0.0.1:{sink.port}",
            ],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
        )
        done = sink.wait_for(n, 10)
        return result(
            "smtp-source → smtp-sink", n, done - started if done else None, note=f"-s {concurrency}"
        )
    finally:
        sink.close()


# --- 2. tldops -----------------------------------------------------------------------------------


def seed(n: int) -> None:
    """N active members, one per Person, spread over the delegated ccTLDs; runs in a subprocess.

    The rows are bulk-created (not through ``invite_cctld`` → ``authorise_contacts`` →
    ``confirm_contact`` as bench/seed.py does): the list reads only active memberships and
    addresses, and 5,000 members through the services would take minutes without measuring
    anything of the delivery.
    """
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from tldops.catalog.baseline import load_baseline
    from tldops.catalog.models import Tld
    from tldops.directory.models import Membership, Person

    call_command("migrate", verbosity=0, interactive=False)
    load_baseline()
    tlds = list(Tld.objects.delegated().order_by("alabel"))
    now = timezone.now()
    people = Person.objects.bulk_create(
        [Person(name=f"Member {i}", email=member_address(i)) for i in range(n)], batch_size=1000
    )
    if any(p.pk is None for p in people):  # backends that do not return keys
        people = list(Person.objects.order_by("id"))
    Membership.objects.bulk_create(
        [
            Membership(
                person=p,
                tld=tlds[i % len(tlds)],
                status=Membership.Status.ACTIVE,
                number=i // len(tlds) + 1,
                authorised_by=f"admin@nic.{tlds[i % len(tlds)].alabel}",
                authorisation_rule="bench",
                authorised_via="cli",
                authorised_at=now,
                confirmed_at=now,
            )
            for i, p in enumerate(people)
        ],
        batch_size=1000,
    )
    # The month's repository edition and the quarter's reachability challenges are due in a
    # fresh installation, and the worker would send them to every member first: run them here
    # and mark their mail as gone, so that the sink counts the post's copies only.
    from tldops.mail.models import Delivery
    from tldops.repository import editions, reachability

    editions.run_due()
    reachability.run_due()
    Delivery.objects.update(status=Delivery.Status.SENT, sent_at=now)


def stats() -> None:
    """What the database says about the post (printed as JSON); runs in a subprocess."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
    django.setup()
    from django.db.models import Count, Max, Min

    from tldops.lists.models import Post
    from tldops.mail.models import Delivery, InboundMessage

    post = Post.objects.order_by("-id").first()
    out: dict[str, object] = {
        "inbound": InboundMessage.objects.count(),
        "post": post.status if post else None,
        "reasons": post.reasons if post else None,
    }
    if post and post.outbound_id:
        d = Delivery.objects.filter(message_id=post.outbound_id)
        out["outbound_created"] = post.outbound.created_at.timestamp()
        out["deliveries"] = dict(d.values_list("status").annotate(Count("id")).order_by())
        agg = d.aggregate(first=Min("sent_at"), last=Max("sent_at"))
        out["first_sent"] = agg["first"].timestamp() if agg["first"] else None
        out["last_sent"] = agg["last"].timestamp() if agg["last"] else None
    print(json.dumps(out))


def run_tldops(n: int, size: int, args: argparse.Namespace, work: Path, processes: int) -> dict:
    data = work / f"tldops-{n}-{processes}"
    shutil.rmtree(data, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TLDOPS_")}
    env.update(
        TLDOPS_DATA_DIR=str(data),
        TLDOPS_MAIL_DOMAIN=DOMAIN,
        TLDOPS_LIST_ADDRESS=LIST_ADDRESS,
        TLDOPS_DELIVERY_CONCURRENCY=str(args.concurrency),
        TLDOPS_LIST_TRUSTED_AUTHSERV_ID=MTA,
    )
    me = [sys.executable, str(Path(__file__).resolve())]
    started = time.monotonic()
    subprocess.run([*me, "_seed", str(n)], env=env, check=True, cwd=ROOT)
    print(f"  tldops: {n} members seeded in {time.monotonic() - started:.1f} s", flush=True)
    sink, nxdns = Sink(), NxDns()
    env["TLDOPS_SMARTHOST"] = f"127.0.0.1:{sink.port}"
    env["TLDOPS_DNS_RESOLVER"] = f"127.0.0.1:{nxdns.port}"
    lmtp = free_port()
    tldops = str(VENV_BIN / "tldops")
    stem = work / f"tldops-{n}-{processes}"
    logs = Path(f"{stem}-mail.log").open("wb"), Path(f"{stem}-worker.log").open("wb")
    mail = subprocess.Popen(
        [tldops, "mail", "--smtp", "off", "--lmtp", f"127.0.0.1:{lmtp}"],
        env=env,
        stdout=logs[0],
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    profile = Path(f"{stem}-worker.pyspy.txt")
    spy = ["py-spy", "record", "--format", "raw", "--rate", "250", "-o", str(profile), "--"]
    # One `tldops worker`; it starts processes - 1 delivery-only helpers (WORKER_PROCESSES), in
    # its process group, so the group's CPU time is theirs too.
    workers = [
        subprocess.Popen(
            [
                *(spy if args.profile else []),
                *(tldops, "worker", "--interval", str(args.worker_interval)),
            ],
            env={**env, "TLDOPS_WORKER_PROCESSES": str(processes)},
            stdout=logs[1],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ]
    try:
        wait_port(lmtp, 30, mail)
        # Let the worker finish its first round: in a fresh data directory that includes the
        # month's repository edition (a PDF, several seconds), which is not list delivery.
        settle(workers[0].pid)
        groups = [mail.pid, *(w.pid for w in workers)]
        cpu0 = [group_cpu(g) for g in groups]
        t0_wall, t0 = time.time(), time.monotonic()
        lmtp_submit(lmtp, member_address(0), make_post(member_address(0), size))
        done = sink.wait_for(n, args.timeout)
        first = sink.first
        cpu = [group_cpu(g) - c for g, c in zip(groups, cpu0, strict=True)]
    finally:
        stop(mail)
        for worker in workers:  # SIGINT: py-spy writes its profile on SIGINT
            stop(worker, sig=signal.SIGINT)
        sink.close()
        nxdns.close()
        for log in logs:
            log.close()
    db = json.loads(
        subprocess.run(
            [*me, "_stats"], env=env, check=True, capture_output=True, text=True, cwd=ROOT
        ).stdout
    )
    if done is None:
        print(f"  tldops: timed out; database says {db}", flush=True)
    if args.profile:
        summarise_profile(profile)
    fan_out = db.get("outbound_created")
    return result(
        "tldops",
        n,
        done - t0 if done else None,
        first=round(first - t0, 3) if first else None,
        fan_out=round(fan_out - t0_wall, 3) if fan_out else None,
        deliveries=db.get("deliveries"),
        cpu_ms=round(1000 * sum(cpu) / n, 2),
        cpu_detail=f"intake {cpu[0]:.2f} s, workers {sum(cpu[1:]):.2f} s",
        note=(
            f"{processes} delivering process(es) (TLDOPS_WORKER_PROCESSES), "
            f"concurrency {args.concurrency} each, "
            f"worker interval {args.worker_interval} s"
        ),
    )


def summarise_profile(path: Path, top: int = 20) -> None:
    """Print py-spy's collapsed stacks as own time per function and time per tldops function."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        total += int(count)
        own[frames[-1]] = own.get(frames[-1], 0) + int(count)
        for frame in set(frames):
            if "tldops" in frame:
                inclusive[frame] = inclusive.get(frame, 0) + int(count)
    print(f"  profile {path} ({total} samples, all threads):")
    print("  own time:")
    for frame, count in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {100 * count / total:5.1f}%  {frame}")
    print("  tldops functions, inclusive:")
    for frame, count in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {100 * count / total:5.1f}%  {frame}")


# --- 3. GNU Mailman 3 ----------------------------------------------------------------------------

MAILMAN_CFG = """\
[mailman]
layout: bench
site_owner: owner@{domain}

[paths.bench]
var_dir: {var}

[mta]
incoming: mailman.mta.null.NullMTA
outgoing: mailman.mta.deliver.deliver
lmtp_host: 127.0.0.1
lmtp_port: {lmtp}
smtp_host: 127.0.0.1
smtp_port: {smtp}
verp_personalized_deliveries: yes
verp_delivery_interval: 1

[webservice]
hostname: 127.0.0.1
port: {rest}

[runner.rest]
start: no

[runner.task]
start: no

[runner.out]
instances: {out}
"""


def mailman_venv(path: Path) -> Path:
    """``path``/bin/mailman, installing ``mailman`` from PyPI into a new virtualenv if needed."""
    mailman = path / "bin" / "mailman"
    if mailman.exists():
        return mailman
    print(f"  mailman: creating {path} and installing mailman from PyPI …", flush=True)
    subprocess.run(["python3", "-m", "venv", str(path)], check=True)
    subprocess.run([str(path / "bin" / "pip"), "install", "-q", "mailman"], check=True)
    return mailman


def mailman_version(venv: Path) -> str:
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import mailman.version as v; print(v.VERSION)"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() or "?"


def run_mailman(n: int, size: int, args: argparse.Namespace, work: Path) -> dict:
    venv = Path(args.mailman_venv)
    mailman = mailman_venv(venv)
    home = work / f"mailman-{n}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    sink = Sink()
    lmtp = free_port()
    cfg = home / "mailman.cfg"
    cfg.write_text(
        MAILMAN_CFG.format(
            domain=DOMAIN,
            var=home / "var",
            lmtp=lmtp,
            smtp=sink.port,
            rest=free_port(),
            out=args.mailman_out_runners,
        )
    )
    env = {**os.environ, "MAILMAN_CONFIG_FILE": str(cfg)}
    as_root = ["--run-as-root"] if os.geteuid() == 0 else []
    try:
        started = time.monotonic()
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                str(ROOT / "bench" / "mailman" / "driver.py"),
                *("--config", str(cfg), "--list", LIST_ADDRESS),
                *("--members", str(n), "--domain", MEMBER_DOMAIN),
            ],
            env=env,
            check=True,
            cwd=home,
            timeout=args.timeout,
        )
        print(f"  mailman: list with {n} members in {time.monotonic() - started:.1f} s", flush=True)
        subprocess.run(
            [str(mailman), "-C", str(cfg), *as_root, "start"],
            env=env,
            check=True,
            cwd=home,
            timeout=60,
        )
        wait_port(lmtp, 60)
        time.sleep(3)  # every runner up and idle
        t0 = time.monotonic()
        lmtp_submit(lmtp, member_address(0), make_post(member_address(0), size))
        done = sink.wait_for(n, args.timeout)
        first = sink.first
        if done is None:
            print(f"  mailman: timed out at {sink.count} of {n}; see {home}/var/logs", flush=True)
    finally:
        subprocess.run(
            [str(mailman), "-C", str(cfg), *as_root, "stop"],
            env=env,
            cwd=home,
            timeout=60,
            check=False,
        )
        sink.close()
    return result(
        f"GNU Mailman {mailman_version(venv)}",
        n,
        done - t0 if done else None,
        first=round(first - t0, 3) if first else None,
        note=(
            f"{args.mailman_out_runners} out runner(s), runners' sleep_time 1 s (default), "
            "one SMTP connection per out runner"
        ),
    )


# --- Report -------------------------------------------------------------------------------------


def machine() -> str:
    cpu = report.cpu_model() or "?"
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, "
        f"Python {platform.python_version()}; load average at the end {load}"
    )


def table(rows: list[dict]) -> str:
    lines = [
        "| N | setup | time to last copy (s) | deliveries/s | first copy (s) | CPU ms/copy | load "
        "| notes |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        secs = f"{r['seconds']:.2f}" if r["seconds"] else "timed out"
        rate = f"{r['per_second']:,}" if r["per_second"] else "–"
        first = f"{r['first']:.2f}" if r.get("first") is not None else "–"
        note = r.get("note", "")
        if r.get("fan_out") is not None:
            note += f"; post fanned out at {r['fan_out']:.2f} s"
        load = r.get("load", "–")
        cpu = f"{r['cpu_ms']:.2f}" if r.get("cpu_ms") is not None else "–"
        lines.append(
            f"| {r['members']:,} | {r['setup']} | {secs} | {rate} | {first} | {cpu} | {load} "
            f"| {note} |"
        )
    return "\n".join(lines)


def write_docs(body: str) -> None:
    report.write_section(BEGIN, END, body)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_seed"]:
        seed(int(argv[1]))
        return 0
    if argv[:1] == ["_stats"]:
        stats()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument(
        "--concurrency", type=int, default=16, help="SMTP sessions (tldops, ceiling)"
    )
    parser.add_argument("--worker-interval", type=float, default=0.5)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="delivering processes (TLDOPS_WORKER_PROCESSES of one `tldops worker`); "
        "one run for each number given",
    )
    parser.add_argument("--size", type=int, default=2000, help="body size of the post (bytes)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run at most")
    parser.add_argument("--workdir", help="where data goes (default: a temporary directory)")
    parser.add_argument("--mailman-venv", default=str(ROOT / "var" / "mailman-venv"))
    parser.add_argument(
        "--mailman-out-runners",
        type=int,
        default=1,
        help="Mailman's [runner.out] instances (a power of 2; Mailman's default is 1)",
    )
    parser.add_argument("--skip-mailman", action="store_true")
    parser.add_argument("--skip-tldops", action="store_true")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run tldops' worker under py-spy (on PATH) and print where its time goes",
    )
    parser.add_argument("--json", help="write the raw results to this file")
    parser.add_argument(
        "--docs", action="store_true", help="rewrite the table in docs/benchmarks.md"
    )
    args = parser.parse_args(argv)

    work = Path(args.workdir or tempfile.mkdtemp(prefix="tldops-listbench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.members:
        print(f"N = {n}", flush=True)
        rows.append(run_ceiling(n, args.size, args.concurrency, args.timeout))
        print(f"  {rows[-1]}", flush=True)
        if not args.skip_tldops:
            for processes in args.workers:
                rows.append(run_tldops(n, args.size, args, work, processes))
                print(f"  {rows[-1]}", flush=True)
        if not args.skip_mailman:
            rows.append(run_mailman(n, args.size, args, work))
            print(f"  {rows[-1]}", flush=True)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = f"Run {when} on {machine()}; post body {args.size} bytes.\n\n{table(rows)}"
    print(body)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    if args.docs:
        write_docs(body)
    print(f"data in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
