"""A person changes their own email address, proven by a link sent to the new one (issue 9).

1. :func:`request_change` — the person, signed in (portal or API), gives the new address. It is
   cleaned like any contact address (:func:`~tldops.directory.validation.clean_email`) and must
   not be another person's (main or other address, or another account's sign-in name). The row
   keeps it with a fresh nonce and the time; a mail to the NEW address carries a signed link
   (:func:`tldops.directory.links.sign`, salt :data:`SALT`). Nothing else changes. Asking again
   replaces the request: the earlier link stops working.
2. :func:`confirm_change` — the link, used by the same person signed in (anyone else is refused,
   whatever link they hold). It works once (the nonce is cleared), for ``EMAIL_CHANGE_TTL_HOURS``
   (default 48), and only if the address is still free: taken meanwhile, it is refused and
   nothing changes. Then, in one transaction: the person's address and their account's sign-in
   name change (the session stays valid: Django keys it on the password, not the name), the
   audit entry is written, the OLD address is told, and so are the other contacts of each of
   the person's ccTLDs.

Both are audited (``email-change-requested``, ``email-changed``).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.directory import links, queries
from tldops.directory.audit import Actor, record
from tldops.directory.models import Person
from tldops.directory.validation import clean_email
from tldops.kernel.errors import InvalidInput, LinkInvalid, NotAuthorised
from tldops.mail import outbox

SALT = "tldops.directory.email-change"
PURPOSE = "email-change"


def ttl() -> timedelta:
    return timedelta(hours=settings.EMAIL_CHANGE_TTL_HOURS)


def token(person: Person) -> str:
    """The signed link token for ``person``'s pending change (over their id and the nonce)."""
    return links.sign(SALT, "p", person.pk, person.email_change_nonce)


def link(person: Person) -> str:
    return f"{settings.BASE_URL}/profile/email/confirm/{token(person)}/"


def _taken_by_another(person: Person, address: str) -> bool:
    """Whether ``address`` is someone else's: a person's main or other address, or an account's
    sign-in name."""
    lower = address.lower()
    if Person.objects.filter(email__iexact=address).exclude(pk=person.pk).exists():
        return True
    for other in Person.objects.exclude(pk=person.pk).exclude(alt_emails=[]).only("alt_emails"):
        if lower in {str(a).lower() for a in other.alt_emails}:
            return True
    users = get_user_model().objects.filter(username__iexact=address)
    if person.user_id is not None:
        users = users.exclude(pk=person.user_id)
    return users.exists()


def _check_free(person: Person, address: str) -> None:
    if _taken_by_another(person, address):
        raise InvalidInput(
            _(
                "%(a)s belongs to another person in TLD-OPS. Give an address that is yours "
                "alone, or ask the secretariat."
            )
            % {"a": address},
            field="email",
        )


def _require_self(person: Person, actor: Actor) -> None:
    if actor.person is None or actor.person.pk != person.pk:
        raise NotAuthorised(_("Only you can change your own address."))


@outbox.mail_language()
def _send_link(person: Person) -> None:
    outbox.send_template(
        "directory/email/email_change_confirm.txt",
        {
            "person": person,
            "new_email": person.email_change_to,
            "link": link(person),
            "ttl_hours": settings.EMAIL_CHANGE_TTL_HOURS,
        },
        subject=_("TLD-OPS: confirm your new address"),
        to=[person.email_change_to],
        purpose=PURPOSE,
    )


def request_change(person: Person, new_email: str, *, actor: Actor) -> Person:
    """Ask to change ``person``'s address to ``new_email``; mails the link to it. Audited."""
    _require_self(person, actor)
    address = clean_email(new_email, field_name="email")
    if address.lower() == person.email.lower():
        raise InvalidInput(_("%(a)s is already your address.") % {"a": address}, field="email")
    _check_free(person, address)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        person.email_change_to = address
        person.email_change_nonce = links.new_nonce()
        person.email_change_requested_at = timezone.now()
        person.save(
            update_fields=[
                "email_change_to",
                "email_change_nonce",
                "email_change_requested_at",
                "updated_at",
            ]
        )
        record(
            actor,
            "email-change-requested",
            f"{person.name} asked to change their address to {address}",
            person=person,
            before={"email": person.email},
            after={"email_change_to": address},
        )
        _send_link(person)
    return person


def pending(token_value: str) -> Person:
    """The person a link names, if the link is still good (:class:`LinkInvalid` otherwise);
    for the confirmation page to show what will change, without changing it."""
    pk, nonce = links.unsign(
        token_value,
        SALT,
        "p",
        _("This link is not valid. Check that it was copied whole."),
        max_age=ttl(),
        expired=_("This link has expired. Ask for the change again in your profile."),
    )
    person = Person.objects.filter(pk=pk).first()
    if (
        person is None
        or not nonce
        or not person.email_change_nonce
        or not secrets.compare_digest(person.email_change_nonce, nonce)
    ):
        raise LinkInvalid(_("This link has already been used or was replaced by a newer request."))
    if (
        person.email_change_requested_at is None
        or person.email_change_requested_at + ttl() <= timezone.now()
    ):
        raise LinkInvalid(_("This link has expired. Ask for the change again in your profile."))
    return person


def confirm_change(token_value: str, *, actor: Actor) -> Person:
    """Apply the change a link names; see the module's text. Returns the person as changed."""
    with transaction.atomic():
        person = pending(token_value)
        _require_self(person, actor)
        person = Person.objects.select_for_update().get(pk=person.pk)
        pending(token_value)  # again under the row lock: a parallel use has cleared the nonce
        new, old = person.email_change_to, person.email
        _check_free(person, new)
        person.email = new
        person.alt_emails = [a for a in person.alt_emails if str(a).lower() != new.lower()]
        person.email_change_to = ""
        person.email_change_nonce = ""
        person.email_change_requested_at = None
        person.save()
        if person.user is not None:
            user = person.user
            user.username = new
            user.email = new
            user.save(update_fields=["username", "email"])
        record(
            actor,
            "email-changed",
            f"{person.name} changed their address from {old} to {new}",
            person=person,
            before={"email": old},
            after={"email": new},
        )
        _tell(person, old, new)
    return person


@outbox.mail_language()
def _tell(person: Person, old: str, new: str) -> None:
    """The old address is told (a stolen session cannot move an account silently), and so are
    the other contacts of each of the person's ccTLDs."""
    context = {"person": person, "old_email": old, "new_email": new}
    outbox.send_template(
        "directory/email/email_changed_old.txt",
        context,
        subject=_("TLD-OPS: your address is now %(a)s") % {"a": new},
        to=[old],
        purpose="email-changed-notice",
    )
    for tld, colleagues in queries.colleagues_by_tld(person):
        outbox.send_template(
            "directory/email/colleague_email_changed.txt",
            {**context, "tld": tld},
            subject=_("TLD-OPS: %(name)s changed their address for %(tld)s")
            % {"name": person.name, "tld": tld.display},
            to=colleagues,
            purpose="colleague-notice",
        )
