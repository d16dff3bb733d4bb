"""What the process commands (run, web, mail, worker) share: listening addresses and the banner."""

from __future__ import annotations

import asyncio
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandParser

from tldops.cli import fail
from tldops.ops import supervisor
from tldops.ops.supervisor import ListenError, Plan


def add_listen_arguments(parser: CommandParser, *, web: bool, mail: bool) -> None:
    if web:
        parser.add_argument(
            "--web",
            metavar="HOST:PORT",
            help=f"Where the web server listens (default: TLDOPS_WEB_LISTEN, {settings.WEB_LISTEN}).",
        )
        parser.add_argument("--access-log", action="store_true", help="Log every web request.")
        parser.add_argument(
            "--workers",
            type=int,
            metavar="N",
            help="Web server processes (default: TLDOPS_WEB_WORKERS, else one per CPU). "
            "Each answers one request at a time; several use several CPUs.",
        )
    if mail:
        parser.add_argument(
            "--smtp",
            metavar="HOST:PORT",
            help=f"Where the SMTP intake listens (default: TLDOPS_SMTP_LISTEN, {settings.SMTP_LISTEN}); "
            "'off' disables it.",
        )
        parser.add_argument(
            "--lmtp",
            metavar="HOST:PORT",
            help=f"Where the LMTP intake listens (default: TLDOPS_LMTP_LISTEN, {settings.LMTP_LISTEN}); "
            "'off' disables it.",
        )


def build_plan(options: dict, *, web: bool, mail: bool, worker: bool) -> Plan:
    """Bind every socket the plan needs, or fail with a message naming the address and setting."""
    plan = Plan(worker=worker, access_log=bool(options.get("access_log")))
    wanted = []
    if web:
        wanted.append(
            ("web", options.get("web") or settings.WEB_LISTEN, "the web server", "WEB_LISTEN")
        )
    if mail:
        wanted.append(("smtp", options.get("smtp") or settings.SMTP_LISTEN, "SMTP", "SMTP_LISTEN"))
        wanted.append(("lmtp", options.get("lmtp") or settings.LMTP_LISTEN, "LMTP", "LMTP_LISTEN"))
    try:
        for attr, value, what, setting in wanted:
            if str(value).strip().lower() in {"off", "none", ""}:
                continue
            address = supervisor.parse_listen(value, what=what)
            setattr(plan, attr, supervisor.bind(address, what=what, setting=setting))
    except ListenError as exc:
        plan.close()
        raise fail(str(exc)) from None
    return plan


def outgoing_mail() -> str:
    if settings.SMARTHOST:
        return f"through the smarthost {settings.SMARTHOST}"
    return f"into the folder {settings.MAIL_SINK_DIR} (one .eml file a message; set TLDOPS_SMARTHOST to send)"


def describe(plan: Plan) -> list[str]:
    lines = []
    if plan.web is not None:
        lines.append(f"Web:      http://{supervisor.bound_address(plan.web)}/")
        if settings.BASE_URL.rstrip("/") != f"http://{supervisor.bound_address(plan.web)}":
            lines.append(f"          (links in mail point to {settings.BASE_URL}/)")
    if plan.smtp is not None:
        lines.append(f"SMTP in:  {supervisor.bound_address(plan.smtp)}")
    if plan.lmtp is not None:
        lines.append(f"LMTP in:  {supervisor.bound_address(plan.lmtp)}")
    if plan.smtp is not None or plan.lmtp is not None:
        local, _at, domain = settings.LIST_ADDRESS.rpartition("@")
        lines.append(
            f"          accepting mail for {settings.AUTHORISE_ADDRESS}, "
            f"{settings.REACHABILITY_ADDRESS}"
        )
        lines.append(
            f"          and the list {settings.LIST_ADDRESS} "
            f"({local}-request@, {local}-owner@, {local}-bounces@{domain})"
        )
        lines.extend(sender_verification(lmtp=plan.lmtp is not None))
    if plan.worker:
        lines.append(f"Mail out: {outgoing_mail()}")
    if plan.monitor:
        lines.append(
            f"Monitor:  every ccTLD's name servers every {settings.MONITOR_INTERVAL} s "
            "(TLDOPS_MONITOR_ENABLED=false or --no-monitor to turn it off)"
        )
    return lines


def sender_verification(*, lmtp: bool = False) -> list[str]:
    """How senders are verified, for the start-up banner; a warning when they are not at all."""
    if settings.LIST_TRUSTED_AUTHSERV_ID:
        return [
            "Senders:  verified by the MTA's Authentication-Results "
            f"(authserv-id {settings.LIST_TRUSTED_AUTHSERV_ID})"
        ]
    if not settings.VERIFY_SENDERS:
        return [
            "WARNING:  senders are NOT verified (TLDOPS_VERIFY_SENDERS=false and no "
            "TLDOPS_LIST_TRUSTED_AUTHSERV_ID):",
            "          anyone can post to the list in a member's name, and answer the "
            "authorisation and reachability mail in another's.",
        ]
    lines = [
        "Senders:  verified by tldops (SPF for the connecting address, DKIM, DMARC alignment; "
        f"recorded as {settings.AUTHSERV_ID})"
    ]
    if lmtp:
        lines.append(
            "          behind an MTA over LMTP the connecting address is the MTA's: let it check "
            "and set TLDOPS_LIST_TRUSTED_AUTHSERV_ID"
        )
    return lines


def serve(plan: Plan, *, on_ready=None) -> None:
    """Run the plan until a signal; ``on_ready`` (no database access: it runs in the event loop).
    Web workers that keep dying at start end the command with their explanation."""
    if plan.web is not None:
        # WhiteNoise serves static files from the apps' folders; it warns when STATIC_ROOT is missing.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(supervisor.supervise(plan, on_ready=on_ready))
    except supervisor.WebWorkersFailed as exc:
        raise fail(str(exc)) from None
    finally:
        plan.close()
