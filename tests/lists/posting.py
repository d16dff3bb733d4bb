"""Helpers of the list tests: build a message, send it through the intake's real processing path."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.conf import settings

from tldops.lists.models import Post
from tldops.mail import intake
from tldops.mail.intake import Outcome


def message(
    *,
    sender: str = "ana@nic.fr",
    name: str = "Ana Lopez",
    subject: str = "DDoS on the DNS",
    body: str = "We see a flood of random subdomain queries.\n",
    to: str | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = to or settings.LIST_ADDRESS
    msg["Subject"] = subject
    msg["Date"] = "Mon, 23 Nov 2026 10:00:00 +0000"
    msg["Message-ID"] = message_id or make_msgid(domain="nic.test")
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg


def deliver(
    msg: EmailMessage | bytes, *, to: str | None = None, mail_from: str | None = None
) -> Outcome | None:
    """Store ``msg`` as the intake does after DATA, then process it (what the intake does next)."""
    raw = msg if isinstance(msg, bytes) else msg.as_bytes()
    rcpt = to or settings.LIST_ADDRESS
    route = intake.route_for(rcpt)
    assert route is not None, rcpt
    if mail_from is None:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        mail_from = email.utils.parseaddr(str(parsed.get("From", "")))[1]
    pk = intake.store(mail_from, [rcpt], raw, route.name)
    return intake.process_message(pk)


def post(msg: EmailMessage | bytes, **kwargs: str) -> Post:
    """Send ``msg`` to the posting address; the :class:`Post` it became."""
    outcome = deliver(msg, **kwargs)
    assert outcome is not None
    assert outcome.status != "failed", outcome.result
    return Post.objects.order_by("-id").first()


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Members are made through the real flow, which sets passwords: hash them cheaply here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
