"""Resetting someone's second factor: what staff did in Django's admin, now one audited action.

A member (or a staff colleague) who lost their authenticator app cannot sign in where a code is
required. The secretariat or the committee resets their second factor (portal, API or
``tldops members reset-2fa``): their TOTP devices are deleted, every session they have open is
ended, an audit entry says who did it and why, and the person is mailed what happened and what to
do next. At their next sign-in they are asked to set up an authenticator app again (required for
staff roles, offered to members).

The rules, written here once for every door:

* only the secretariat and the committee may reset another person's factor; the command line,
  run by the server's operator, may reset anyone's;
* nobody resets their own through this door: a person who still has their device turns it off on
  the two-factor page; a staff member who lost theirs asks a colleague (or the operator), so that
  a stolen password alone never removes a staff account's second factor;
* the secretariat may not reset a committee member's factor (one may lower the protection only of
  roles at or below one's own);
* nothing else about the person changes: no password, no detail, no token, no membership.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from tldops.directory.audit import Actor, record
from tldops.directory.models import AuditEntry, Person, Role
from tldops.directory.validation import clean_text
from tldops.kernel.errors import InvalidInput, NotAuthorised
from tldops.mail import outbox

#: The audit log's name for the action; the sign-in reads it to ask for a new device.
ACTION = "second-factor-reset"

_RANK = {Role.MEMBER: 0, Role.SECRETARIAT: 1, Role.COMMITTEE: 2}
_STAFF = (Role.SECRETARIAT, Role.COMMITTEE)


def check_may_reset(person: Person, *, actor: Actor) -> None:
    """Refuse (``NotAuthorised``) unless ``actor`` may reset ``person``'s second factor; the rules
    are in this module's docstring. Doors call it to refuse before asking for a reason."""
    if actor.door == "cli":
        return
    if actor.role not in _STAFF:
        raise NotAuthorised(
            _("Only the secretariat and the standing committee may reset a second factor.")
        )
    if actor.person is not None and actor.person.pk == person.pk:
        raise NotAuthorised(
            _(
                "You cannot reset your own second factor here. With your device, turn it off on "
                "the two-factor page; without it, ask a colleague of the secretariat or committee."
            )
        )
    if _RANK.get(person.role, 0) > _RANK.get(actor.role, 0):
        raise NotAuthorised(
            _("Only the standing committee may reset a committee member's second factor.")
        )


def has_second_factor(person: Person) -> bool:
    """Whether ``person`` has any TOTP device (confirmed or still being set up)."""
    return person.user_id is not None and TOTPDevice.objects.filter(user=person.user_id).exists()


def _end_sessions(user_id: int) -> int:
    """Delete every open session of ``user_id``; return how many.

    Sessions are not indexed by user, so each unexpired one is decoded: a community of some
    thousand people has about as many sessions, and a reset is rare.
    """
    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id", "")) == str(user_id):
            ended.append(session.pk)
    if ended:
        Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def _login_url() -> str:
    try:
        return settings.BASE_URL + reverse("web:login")
    except NoReverseMatch:
        return settings.BASE_URL + "/"


def _by_whom(actor: Actor) -> str:
    if actor.person is not None:
        return f"{actor.person.name} <{actor.person.email}>"
    return _("the TLD-OPS operator, on the server's command line")


def reset(person: Person, *, actor: Actor, reason: str) -> int:
    """Delete ``person``'s TOTP devices and end their sessions, audited, and mail them.

    Returns the number of devices removed. Refuses (nothing changed) when the actor may not, when
    the reason is empty or too long, or when the person has no second factor to reset.
    """
    check_may_reset(person, actor=actor)
    reason = clean_text(reason, field_name="reason", required=True, what=_("The reason"))
    if person.user_id is None:
        raise InvalidInput(
            _("%(e)s has no account yet: nothing to reset.") % {"e": person.email}, field="person"
        )
    with transaction.atomic():
        devices = TOTPDevice.objects.select_for_update().filter(user=person.user_id)
        count = len(devices)
        if not count:
            raise InvalidInput(
                _("%(e)s has no second factor: nothing to reset.") % {"e": person.email},
                field="person",
            )
        TOTPDevice.objects.filter(user=person.user_id).delete()
        sessions = _end_sessions(person.user_id)
        record(
            actor,
            ACTION,
            f"second factor of {person.email} reset: {reason}",
            person=person,
            before={"devices": count},
            after={"devices": 0, "sessions_ended": sessions},
        )
        with outbox.mail_language():
            outbox.send_template(
                "directory/email/second_factor_reset.txt",
                {
                    "person": person,
                    "by": _by_whom(actor),
                    "reason": reason,
                    "login_url": _login_url(),
                    "required": person.role in _STAFF,
                },
                subject=_("TLD-OPS: your second factor was reset"),
                to=[person.email],
                purpose="second-factor-reset",
            )
    return count


def reset_since(person: Person | None, when: datetime | None) -> bool:
    """Whether ``person``'s second factor was reset after ``when`` (their previous sign-in; None
    for never): the sign-in then asks them to set up a new device."""
    if person is None:
        return False
    entries = AuditEntry.objects.filter(person=person, action=ACTION)
    if when is not None:
        entries = entries.filter(at__gt=when)
    return entries.exists()
