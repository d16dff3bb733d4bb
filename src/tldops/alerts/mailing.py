"""An alert as mail: ordinary list mail for every label but RED, and for RED a copy to each of
the people named, never the list.

- The subject is ``[TLD-OPS][TLP:AMBER] <title>`` and the first lines of the text are the label
  and what a reader may do with it (:attr:`~tldops.alerts.tlp.Tlp.sharing`); the label is the
  last line too. The list's own handlers add its tag, footer, DMARC handling and signature.
- CLEAR, GREEN, AMBER, AMBER+STRICT go to the list through the mail core
  (:func:`tldops.mail.community.post`): distributed, archived and threaded like any post, to
  each member's own address only (the list never writes to ``alt_emails``, so AMBER+STRICT
  reaches no other address of theirs).
- RED goes to each reader (the author and the people named) separately, at their own address:
  nobody learns from the headers who else was named. Replies go to the list's address, where
  the alerts' watcher (:mod:`tldops.alerts.mail_door`) diverts them to the readers again.

Every message of an alert's thread is kept in :class:`~tldops.alerts.models.ThreadMessage`, so a
reply that names any of them (In-Reply-To, References) attaches to the alert.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.template.loader import render_to_string

from tldops.alerts.models import THREAD_TEXT_MAX_LENGTH, Alert, ThreadMessage
from tldops.alerts.tlp import Tlp
from tldops.directory.models import Person
from tldops.mail import community, headers, outbox
from tldops.mail.community import Action, Verdict

#: Indicators written into an alert's mail; the rest are on its page.
INDICATORS_IN_MAIL = 200
RED_PURPOSE = "alert-red"


def alert_url(alert: Alert) -> str:
    return f"{settings.BASE_URL}/alerts/{alert.pk}/"


def shown_subject(alert: Alert) -> str | None:
    """What the outbox's pages and commands (read by staff) show for mail about ``alert``: for a
    RED alert its number, never its title; ``None`` (the subject itself) otherwise."""
    return f"[{Tlp.RED.tag}] alert {alert.pk}" if alert.label is Tlp.RED else None


def subject_label(alert: Alert) -> str:
    """``[TLP:AMBER]``: what follows the list's tag in the subject."""
    return f"[{Tlp(alert.tlp).tag}]"


def banner(alert: Alert, *, reply: bool = False) -> str:
    """The lines above the text of a post that became an alert, or of a reply to one."""
    with outbox.mail_language():
        return render_to_string(
            "alerts/email/banner.txt",
            {"alert": alert, "label": Tlp(alert.tlp), "url": alert_url(alert), "reply": reply},
        ).strip()


def render(alert: Alert) -> EmailMessage:
    """The alert's own mail (raised in the portal, the API, the CLI, or a RED alert by mail)."""
    label = Tlp(alert.tlp)
    shown = list(alert.indicators.values_list("kind", "value")[:INDICATORS_IN_MAIL])
    with outbox.mail_language():
        body = render_to_string(
            "alerts/email/alert.txt",
            {
                "alert": alert,
                "label": label,
                "url": alert_url(alert),
                "affected": [t.display for t in alert.affected.order_by("alabel")],
                "indicators": shown,
                "more": max(0, alert.indicators.count() - len(shown)),
                "kind_width": max((len(k) for k, _v in shown), default=0),
            },
        )
    author = alert.author
    if label is Tlp.RED:
        # Sent by tldops, not by the author's own mail system: the list's address, the author's name.
        sender = formataddr((f"{author.name} via {settings.LIST_NAME}", settings.LIST_ADDRESS))
    else:
        sender = formataddr((author.name, author.email))
    msg = outbox.build_message(
        subject=f"{subject_label(alert)} {alert.title}",
        body=body,
        to=[settings.LIST_ADDRESS],
        from_addr=sender,
        reply_to=settings.LIST_ADDRESS if label is Tlp.RED else None,
    )
    del msg["Auto-Submitted"]  # written by a person, through a door: replies are welcome
    return msg


def publish(alert: Alert) -> str:
    """Send the alert's mail, in the caller's transaction: to the list (every label but RED) or to
    each reader (RED). Records it as the first message of the alert's thread; returns its
    Message-ID."""
    msg = render(alert)
    if Tlp(alert.tlp) is Tlp.RED:
        message_id = str(msg["Message-ID"])
        del msg["Subject"]
        msg["Subject"] = headers.one_line(community.subject(alert.title, subject_label(alert)), 998)
        _to_readers(alert, msg, exclude=None)
    else:
        message_id = community.post(
            msg,
            sender=alert.author.email,
            person=alert.author,
            verdict=Verdict(Action.DISTRIBUTE, label=subject_label(alert)),
        )
    started(alert, message_id, alert.author, str(msg["Subject"]), alert.body)
    return message_id


def started(alert: Alert, message_id: str, person: Person, subject: str, text: str) -> None:
    """Record ``message_id`` as the alert's own mail (the first message of its thread)."""
    Alert.objects.filter(pk=alert.pk).update(message_id=message_id[:998])
    alert.message_id = message_id[:998]
    keep(alert, message_id, person, person.email, subject, text)


def keep(
    alert: Alert, message_id: str, person: Person | None, sender: str, subject: str, text: str
) -> ThreadMessage:
    """Add one message to the alert's thread."""
    Alert.touch(alert.pk)
    return ThreadMessage.objects.create(
        alert=alert,
        message_id=message_id[:998],
        person=person,
        sender=sender[:320],
        subject=headers.one_line(subject, 998),
        text=text[:THREAD_TEXT_MAX_LENGTH],
    )


def readers(alert: Alert) -> list[Person]:
    """A RED alert's readers: its author and the people named, each once — exactly whom
    :func:`access.can_read` lets read a RED alert, read here in one query instead of one per
    person."""
    people = {alert.author_id: alert.author}
    for person in alert.recipients.all():
        people.setdefault(person.pk, person)
    return list(people.values())


def _to_readers(alert: Alert, msg: EmailMessage, *, exclude: Person | None) -> int:
    """One copy of ``msg`` to each reader of a RED alert (their own address, nobody else's in
    the headers), but ``exclude``; how many were queued."""
    sent = 0
    for person in readers(alert):
        if exclude is not None and person.pk == exclude.pk:
            continue
        del msg["To"]
        msg["To"] = formataddr((person.name, person.email))
        outbox.enqueue(
            msg, purpose=RED_PURPOSE, recipients=[person.email], shown_subject=shown_subject(alert)
        )
        sent += 1
    return sent


def forward_red_reply(alert: Alert, original: EmailMessage, sender: Person, text: str) -> int:
    """A reply to a RED alert sent to the list: to the alert's other readers only, as the
    author wrote it (its attachments too), never to the list. How many copies were queued."""
    msg = EmailMessage()
    msg["From"] = formataddr((f"{sender.name} via {settings.LIST_NAME}", settings.LIST_ADDRESS))
    msg["Reply-To"] = settings.LIST_ADDRESS
    subject = headers.one_line(str(original.get("Subject", "")), 900)
    msg["Subject"] = community.subject(subject, subject_label(alert))
    msg["Message-ID"] = headers.one_line(
        str(original.get("Message-ID", "")) or make_msgid(domain=settings.MAIL_DOMAIN), 998
    )
    for name in ("In-Reply-To", "References", "Date"):
        if value := original.get(name):
            msg[name] = headers.one_line(str(value), 998)
    msg.set_content(f"{banner(alert, reply=True)}\n\n{text}", charset="utf-8")
    for part in original.iter_attachments():
        msg.make_mixed()
        msg.attach(part)
    return _to_readers(alert, msg, exclude=sender)
