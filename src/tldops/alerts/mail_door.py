"""The email door of alerts: a list post that is an alert, and replies that attach to one.

The alerts app watches the list's posts through the mail core (:mod:`tldops.mail.community`;
registered in :mod:`tldops.alerts.apps`), so neither the list nor the alerts import each other:

- **A new alert by mail**: a post whose subject carries a label in brackets (``[TLP:AMBER] DGA
  names under .fr``), or whose first line is one (``TLP: AMBER``), followed or not by the
  template's fields (docs/alerts.md, "Raising an alert by mail"; ``help alert`` to the
  ``-request`` address sends it). It is raised through :func:`tldops.alerts.services.raise_alert`
  like any other; text attachments are read as indicator lists. A label that is not one of the
  five, or a template with mistakes, refuses the post: nothing is sent, the sender is told
  every mistake. A RED alert is never distributed: it goes to its readers only
  (:mod:`tldops.alerts.mailing`).
- **Replies**: a post whose In-Reply-To or References names a message of an alert's thread is
  kept in the thread. A first line ``seen here too [count]``, ``not seen``, ``false positive``
  or ``mitigated`` is recorded as the sender's answer for their ccTLD. A reply to a RED alert
  goes to the alert's readers only, and only from one of them.
- **Never held**: a post labelled RED, or replying to a RED alert, is refused instead of being
  held for the moderators (:func:`screen`): they are not among the people it names.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from email.message import EmailMessage

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tldops.alerts import access, mailing, services
from tldops.alerts.models import Alert, ThreadMessage
from tldops.alerts.tlp import Tlp
from tldops.alerts.tlp import parse as parse_label
from tldops.directory.audit import Actor
from tldops.kernel.errors import DirectoryError, InvalidInput
from tldops.mail import headers, outbox
from tldops.mail.community import Action, ListPost, Verdict
from tldops.mail.parsing import body_text

#: ``[TLP:…]`` in a subject, whatever is inside, so that an unknown label is refused, not ignored.
SUBJECT_LABEL = re.compile(r"\[\s*TLP\s*:\s*([^\]]{0,40})\]", re.IGNORECASE)
#: ``TLP: …`` as the first line of the text.
LINE_LABEL = re.compile(r"^\s*TLP\s*:\s*(.{0,40}?)\s*$", re.IGNORECASE)
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|tr|sv|antw|vs)\s*:\s*)+", re.IGNORECASE)
#: The template's fields (``Key: value`` lines at the top of the text, in any order).
FIELDS = {
    "tlp",
    "title",
    "kind",
    "category",
    "severity",
    "affected",
    "public",
    "to",
    "to-affected",
    "indicators",
}
FIELD_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z-]{1,15})\s*:\s*(.*?)\s*$")
REACTION_LINE = re.compile(
    r"^\s*(seen(?:\s+here\s+too)?|not[\s-]+seen|false[\s-]+positive|mitigated)\b[\s:,-]*"
    r"([0-9]{1,10})?\s*$",
    re.IGNORECASE,
)
#: Attachments read as indicator lists.
INDICATOR_TYPES = {"text/plain", "text/csv"}
#: The references of a reply looked at (the most recent ones), In-Reply-To's and References' alike.
MAX_REFERENCES = 30
#: Indicator lists read from one mail's attachments; more are named in the receipt, not read.
MAX_INDICATOR_ATTACHMENTS = 10
RECEIPT_PURPOSE = "alert-receipt"
RECEIPTS_PER_HOUR = 30
YES = {"yes", "y", "true", "1", "oui", "ja", "sí", "si"}

#: The labels from the widest audience to the narrowest.
STRICTNESS = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED]
MEMBERS_ONLY_RED = gettext_lazy("Only members may raise a TLP:RED alert by mail.")
UNVERIFIED_RED = gettext_lazy(
    "A TLP:RED alert is raised by mail only from an address whose mail passes its domain's "
    "checks (SPF, DKIM, DMARC): yours could not be verified. Raise it in the portal."
)
RED_NEVER_HELD = gettext_lazy(
    "A TLP:RED message is never held for the moderators, who are not among the people it names, "
    "and it never goes to the list. Send it from your own address, as a "
    "member whose mail passes its domain's checks, or raise the alert in the portal."
)


# --- Reading a post --------------------------------------------------------------------------------


def _first_lines(text: str) -> list[str]:
    """The text's lines before the signature, without quoted lines."""
    lines = []
    for line in text.splitlines():
        if line.rstrip() == "--":
            break
        if not line.lstrip().startswith(">"):
            lines.append(line.rstrip())
    return lines


def written_label(msg: EmailMessage) -> tuple[str | None, str]:
    """(the label as written, where: ``subject`` or ``line``), or (None, "") when neither the
    subject nor the first line of the text names one."""
    match = SUBJECT_LABEL.search(str(msg.get("Subject", "")))
    if match:
        return match.group(1), "subject"
    first = next((line for line in _first_lines(body_text(msg)) if line.strip()), "")
    match = LINE_LABEL.match(first)
    if match:
        return match.group(1), "line"
    return None, ""


def _label_or_none(raw: str | None) -> Tlp | None:
    try:
        return parse_label(raw) if raw is not None else None
    except InvalidInput:
        return None


def thread_of(msg: EmailMessage) -> ThreadMessage | None:
    """The message of an alert's thread that ``msg`` replies to (In-Reply-To, then References,
    the most recent first), or None."""
    ids = headers.message_ids(str(msg.get("In-Reply-To", "")))[:MAX_REFERENCES]
    ids += list(reversed(headers.message_ids(str(msg.get("References", "")))))[:MAX_REFERENCES]
    ids = list(dict.fromkeys(ids))[:MAX_REFERENCES]
    if not ids:
        return None
    found = {
        t.message_id: t
        for t in ThreadMessage.objects.filter(message_id__in=ids).select_related("alert")
    }
    return next((found[i] for i in ids if i in found), None)


@dataclass
class Template:
    """What the post's template says, before the service checks it."""

    data: services.AlertInput
    attachments: list[EmailMessage] = field(default_factory=list)


def read_template(msg: EmailMessage, label: str) -> Template:
    """The alert a post describes: the title from the subject (its tags removed) or a ``Title:``
    line; the fields of the ``Key: value`` lines at the top of the text (an ``Indicators:``
    field runs on over the following lines up to a blank one); the text after them. Unknown
    keys end the fields: a text that starts ``Note: …`` keeps that line."""
    lines = _first_lines(body_text(msg))
    fields: dict[str, str] = {}
    indicators: list[str] = []
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines):
        match = FIELD_LINE.match(lines[i])
        if not match or match.group(1).lower() not in FIELDS:
            break
        key, value = match.group(1).lower(), match.group(2)
        i += 1
        if key == "indicators":
            indicators += [v for v in re.split(r"[\s,;]+", value) if v]
            while i < len(lines) and lines[i].strip():
                indicators.append(lines[i].strip())
                i += 1
            continue
        fields[key] = value
    text = "\n".join(lines[i:]).strip()
    subject = str(msg.get("Subject", ""))
    title = fields.get("title") or headers.one_line(
        SUBJECT_LABEL.sub(" ", subject).replace("[TLD-OPS]", " ")
    )
    listed = [v for v in re.split(r"[\s,;]+", fields.get("affected", "")) if v]
    to = [v for v in re.split(r"[\s,;]+", fields.get("to", "")) if v]
    attachments = [
        part for part in msg.iter_attachments() if part.get_content_type() in INDICATOR_TYPES
    ]
    return Template(
        data=services.AlertInput(
            title=title,
            category=fields.get("category", "other"),
            tlp=label,
            kind=fields.get("kind", "alert"),
            severity=fields.get("severity", "medium"),
            body=text,
            affected=listed,
            public=fields.get("public", "").strip().lower() in YES,
            recipients=to,
            red_to_affected=fields.get("to-affected", "").strip().lower() in YES,
            indicators=indicators,
        ),
        attachments=attachments,
    )


def reaction_of(msg: EmailMessage) -> services.ReactionInput | None:
    """The answer a reply's first line gives (``seen here too 120``), or None."""
    first = next((line for line in _first_lines(body_text(msg)) if line.strip()), "")
    match = REACTION_LINE.match(first)
    if not match:
        return None
    word = " ".join(match.group(1).lower().replace("-", " ").split())
    kind = {"seen": "seen", "seen here too": "seen", "not seen": "not-seen"}.get(
        word, word.replace(" ", "-")
    )
    count = int(match.group(2)) if match.group(2) and kind == "seen" else None
    return services.ReactionInput(kind=kind, count=count)


# --- The watcher -----------------------------------------------------------------------------------


def screen(msg: EmailMessage) -> str:
    """Why a post must not be held for the moderators: it is labelled RED, or replies to a RED
    alert ("" otherwise)."""
    raw, _where = written_label(msg)
    parent = thread_of(msg)
    if _label_or_none(raw) is Tlp.RED or (parent is not None and parent.alert.label is Tlp.RED):
        with outbox.mail_language():
            return str(RED_NEVER_HELD)
    return ""


def _refused(errors: list[str]) -> Verdict:
    """Refused: nothing is sent, the sender is told every mistake."""
    reason = " ".join(errors)
    if not reason.endswith(_("Nothing was sent.")):
        reason = f"{reason} {_('Nothing was sent.')}"
    return Verdict(Action.REFUSE, reason=reason, confidential=True)


def take(post: ListPost) -> Verdict | None:
    """What becomes of a post the list is about to distribute: a reply to an alert, a new alert,
    or (None) an ordinary post. What the sender is told is written in the site's language, as
    every answer of the list is."""
    with outbox.mail_language():
        return _take(post)


def _take(post: ListPost) -> Verdict | None:
    msg = post.msg
    parent = thread_of(msg)
    if parent is not None:
        return _reply(parent, post)
    raw, where = written_label(msg)
    if raw is None:
        return None
    label = _label_or_none(raw)
    subject = str(msg.get("Subject", ""))
    if where == "subject" and REPLY_PREFIX.match(subject):
        # A reply to a thread tldops does not know (older mail, another list): an ordinary post,
        # except that RED never goes to the list.
        if label is Tlp.RED:
            return _refused([str(RED_NEVER_HELD)])
        return None
    if label is None:
        try:
            parse_label(raw)
        except InvalidInput as exc:
            return _refused([exc.message])
    other_raw = _other_label(msg, where)
    if other_raw is not None and _label_or_none(other_raw) is not label:
        return _refused(
            [
                _(
                    "The subject and the first line name different TLP labels (%(a)s, %(b)s): "
                    "write one."
                )
                % {"a": raw.strip()[:40], "b": other_raw.strip()[:40]}
            ]
        )
    return _new_alert(post, label)


def _other_label(msg: EmailMessage, where: str) -> str | None:
    """The label of the first line when the subject had one (they must agree)."""
    if where != "subject":
        return None
    first = next((line for line in _first_lines(body_text(msg)) if line.strip()), "")
    match = LINE_LABEL.match(first)
    return match.group(1) if match else None


def _new_alert(post: ListPost, label: Tlp | None) -> Verdict | None:
    person = post.person
    if person is None or not access.in_community(person) or not post.authentic:
        if label is Tlp.RED:
            member = person is not None and access.in_community(person)
            return _refused([str(UNVERIFIED_RED if member else MEMBERS_ONLY_RED)])
        # A guest's post, or one whose sender is not verified, that a moderator let through (or
        # a pinned sender's): an ordinary post; nobody raises an alert in another's name.
        return None
    template = read_template(post.msg, label.value if label else "")
    actor = Actor.of(person, "email")
    try:
        alert = services.raise_alert(person, template.data, actor=actor, publish=False)
    except DirectoryError as exc:
        return _refused([e.message for e in exc.errors])
    refused = [_("line %(n)d: %(m)s") % {"n": n, "m": m} for n, m in alert.indicator_errors]
    for number, part in enumerate(template.attachments):
        name = headers.one_line(part.get_filename() or "", 100) or _("attachment %(n)d") % {
            "n": number + 1
        }
        if number >= MAX_INDICATOR_ATTACHMENTS:
            refused.append(
                _("%(name)s: not read (at most %(n)d lists a mail; upload the others).")
                % {"name": name, "n": MAX_INDICATOR_ATTACHMENTS}
            )
            continue
        payload = part.get_payload(decode=True) or b""
        try:
            result = services.add_indicators(person, alert.pk, io.BytesIO(payload), actor=actor)
        except DirectoryError as exc:
            refused.append(f"{name}: {exc.message}")
            continue
        refused += [
            f"{name}, " + _("line %(n)d: %(m)s") % {"n": n, "m": m} for n, m in result.errors
        ]
    _receipt(post, alert, refused)
    if alert.label is Tlp.RED:
        mailing.publish(alert)
        return Verdict(
            Action.DIVERT,
            reason=f"alert {alert.pk} ({alert.label.tag}): sent to its readers only",
            confidential=True,
        )
    mailing.started(alert, post.message_id, person, alert.title, alert.body)
    return Verdict(
        Action.DISTRIBUTE,
        reason=f"alert {alert.pk} ({alert.label.tag})",
        label=mailing.subject_label(alert),
        subject=f"{mailing.subject_label(alert)} {alert.title}",
        banner=mailing.banner(alert),
    )


#: Refused indicator lines a receipt lists; the alert's page says how many in all.
RECEIPT_LINES = 50


def _receipt(post: ListPost, alert: Alert, refused: list[str]) -> None:
    """Tell the author the alert's number and page, and the indicator lines refused."""
    outbox.answer(
        post.msg,
        post.sender,
        "alerts/email/raised.txt",
        {
            "alert": alert,
            "label": alert.label,
            "url": mailing.alert_url(alert),
            "indicators": alert.indicators.count(),
            "refused": refused[:RECEIPT_LINES],
            "more_refused": max(0, len(refused) - RECEIPT_LINES),
        },
        purpose=RECEIPT_PURPOSE,
        limit=RECEIPTS_PER_HOUR,
        shown_subject=mailing.shown_subject(alert),
    )


def _reply(parent: ThreadMessage, post: ListPost) -> Verdict | None:
    alert = parent.alert
    person = post.person
    red = alert.label is Tlp.RED
    msg = post.msg
    written = _label_or_none(written_label(msg)[0])
    if written is Tlp.RED and not red:
        # Labelled RED in a thread that is not: it would reach the whole list. Refused; a RED
        # alert is raised on its own, naming its readers.
        return _refused([str(RED_NEVER_HELD)])
    if person is None or not access.can_read(person, alert) or not post.authentic:
        if red:
            return _refused([str(RED_NEVER_HELD)])
        return None  # not theirs to answer (or not proven theirs): an ordinary post
    text = body_text(msg)
    mailing.keep(alert, post.message_id, person, post.sender, str(msg.get("Subject", "")), text)
    answer = reaction_of(msg)
    if answer is not None:
        try:
            services.react(person, alert.pk, answer, actor=Actor.of(person, "email"))
        except DirectoryError:
            pass  # not an answer after all (staff of no ccTLD may not); the text is kept
    if red:
        copies = mailing.forward_red_reply(alert, msg, person, text)
        return Verdict(
            Action.DIVERT,
            reason=f"reply to alert {alert.pk} (TLP:RED): {copies} reader(s) only",
            confidential=True,
        )
    if written is not None and STRICTNESS.index(written) > STRICTNESS.index(alert.label):
        # The reply is labelled stricter than its thread (AMBER+STRICT in a GREEN thread): it
        # goes out with its own label, not the thread's weaker one.
        return Verdict(
            Action.DISTRIBUTE,
            reason=f"reply to alert {alert.pk}, labelled {written.tag}",
            label=f"[{written.tag}]",
            banner=f"{written.tag} — {written.sharing}",
        )
    return Verdict(
        Action.DISTRIBUTE,
        reason=f"reply to alert {alert.pk}",
        label=mailing.subject_label(alert),
        banner=mailing.banner(alert, reply=True),
    )
