"""Every change to the directory, one function each (the Zulip ``do_*`` pattern).

Each action validates its input, changes rows in one transaction, writes its audit entry and queues
its mail through the outbox. The web views, API endpoints, CLI commands and the mail door call these
and nothing else, so a rule (the contact limit, who may authorise) lives here only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.catalog.models import Tld, phone_region
from tldops.directory import links, queries
from tldops.directory.audit import Actor, record
from tldops.directory.models import (
    CommitteePosition,
    Invitation,
    Membership,
    Person,
    Phone,
    Role,
)
from tldops.directory.validation import (
    BATCH_MAX_LENGTH,
    CleanContact,
    ContactInput,
    ProfileChange,
    clean_contact,
    clean_contacts,
    clean_email,
    clean_name,
    clean_profile_change,
    clean_text,
)
from tldops.kernel.errors import InvalidInput, LimitReached, NotAuthorised, NotFound, raise_all
from tldops.mail import outbox

# --- Invitations -----------------------------------------------------------------------------------


@outbox.mail_language()
def _send_invitation_mail(invitation: Invitation, *, reminder: bool) -> None:
    token = links.invitation_token(invitation)
    tld = invitation.tld
    if invitation.purpose == Invitation.Purpose.MANAGE:
        subject = _("TLD-OPS: manage the security contacts of %(tld)s") % {"tld": tld.display}
        template = "directory/email/manage.txt"
    else:
        prefix = _("Reminder: ") if reminder else ""
        subject = prefix + _("TLD-OPS: please name the security contacts of %(tld)s") % {
            "tld": tld.display
        }
        template = "directory/email/invitation.txt"
    outbox.send_template(
        template,
        {
            "invitation": invitation,
            "tld": tld,
            "link": f"{settings.BASE_URL}/authorise/{token}/",
            "token": token,
            "max_contacts": settings.MAX_CONTACTS_PER_CCTLD,
            "authorise_address": settings.AUTHORISE_ADDRESS,
            "reminder": reminder,
        },
        subject=f"{subject} [ref:{links.invitation_ref(invitation)}]",
        to=[invitation.sent_to],
        reply_to=settings.AUTHORISE_ADDRESS,
        purpose=f"{invitation.purpose}{'-reminder' if reminder else ''}",
    )


def _admin_address(tld: Tld) -> str:
    if not tld.admin_email:
        raise InvalidInput(
            _(
                "The IANA administrative contact of %(tld)s has no known email address; set it "
                "with `tldops catalog set %(alabel)s --admin-email ADDRESS` (or on the ccTLD's "
                "catalog page), or run `tldops catalog sync` where there is Internet."
            )
            % {"tld": tld.display, "alabel": tld.alabel},
            field="tld",
        )
    return tld.admin_email


def invite_cctld(tld: Tld, *, actor: Actor, batch: str = "") -> Invitation:
    """Invite a ccTLD: mail its IANA admin contact a signed link to name its security contacts.

    An open invitation for the same ccTLD is cancelled and replaced, so only the newest link works.
    """
    if not tld.delegated:
        raise InvalidInput(_("%(tld)s is retired.") % {"tld": tld.display}, field="tld")
    batch = clean_batch(batch)
    to = _admin_address(tld)
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(
            tld=tld, purpose=Invitation.Purpose.INVITE, status=Invitation.Status.SENT
        ).update(status=Invitation.Status.CANCELLED)
        invitation = Invitation.objects.create(
            tld=tld,
            purpose=Invitation.Purpose.INVITE,
            sent_to=to,
            nonce=links.new_nonce(),
            batch=batch,
            invited_by=actor.person,
            created_at=now,
            last_sent_at=now,
            expires_at=now + timedelta(days=settings.INVITATION_TTL_DAYS),
        )
        _send_invitation_mail(invitation, reminder=False)
        record(
            actor,
            "invite",
            f"Invited {tld.display} via {to}",
            tld=tld,
            after={"sent_to": to, "batch": batch, "expires_at": invitation.expires_at.isoformat()},
        )
    return invitation


def invite_batch(
    tlds: Iterable[Tld], *, actor: Actor, batch: str = "", skip_covered: bool = True
) -> tuple[list[Invitation], list[tuple[Tld, str]]]:
    """Invite many ccTLDs; returns (invitations, skipped with the reason). Each is its own transaction,
    so one ccTLD without an admin address does not stop the batch."""
    batch = clean_batch(batch)  # refused once, not once per ccTLD
    invited: list[Invitation] = []
    skipped: list[tuple[Tld, str]] = []
    for tld in tlds:
        if skip_covered and tld.memberships.filter(status__in=Membership.OPEN).exists():
            skipped.append((tld, _("already has contacts")))
            continue
        try:
            invited.append(invite_cctld(tld, actor=actor, batch=batch))
        except InvalidInput as exc:
            skipped.append((tld, exc.message))
    return invited, skipped


def clean_batch(batch: str) -> str:
    """A batch label: free text, so bounded like every other."""
    return clean_text(
        batch, field_name="batch", max_length=BATCH_MAX_LENGTH, what=_("A batch name")
    )


def send_due_reminders(*, now: timezone.datetime | None = None) -> int:
    """Remind admin contacts who have not answered; expire invitations past their date.

    Idempotent: reminder *k* goes out once, when ``INVITATION_REMINDER_DAYS[k]`` days have passed since
    the invitation, however often the scheduler calls this.
    """
    now = now or timezone.now()
    schedule = settings.INVITATION_REMINDER_DAYS
    sent = 0
    expired = Invitation.objects.filter(status=Invitation.Status.SENT, expires_at__lte=now)
    for invitation in expired.select_related("tld"):
        with transaction.atomic():
            if Invitation.objects.filter(pk=invitation.pk, status="sent").update(status="expired"):
                record(
                    Actor.system(),
                    "invitation-expired",
                    f"Invitation for {invitation.tld.display} expired",
                    tld=invitation.tld,
                )
    open_invitations = Invitation.objects.filter(
        status=Invitation.Status.SENT,
        purpose=Invitation.Purpose.INVITE,
        reminders_sent__lt=len(schedule),
    ).select_related("tld")
    for invitation in open_invitations:
        due = invitation.created_at + timedelta(days=schedule[invitation.reminders_sent])
        if due > now:
            continue
        with transaction.atomic():
            claimed = Invitation.objects.filter(
                pk=invitation.pk, status="sent", reminders_sent=invitation.reminders_sent
            ).update(reminders_sent=invitation.reminders_sent + 1, last_sent_at=now)
            if not claimed:
                continue
            invitation.reminders_sent += 1
            _send_invitation_mail(invitation, reminder=True)
            record(
                Actor.system(),
                "invitation-reminder",
                f"Reminder {invitation.reminders_sent} sent to {invitation.sent_to}",
                tld=invitation.tld,
            )
            sent += 1
    return sent


#: A management link is mailed at most once in this many minutes per ccTLD, so that nobody can
#: flood an admin address by asking again and again.
MANAGE_LINK_INTERVAL_MINUTES = 10


def request_manage_link(tld: Tld, *, actor: Actor) -> Invitation:
    """Mail the IANA admin contact a fresh link to replace or remove the ccTLD's contacts.

    Anyone may ask; only the admin address receives the link, so asking reveals nothing. Earlier
    links stay valid (each still works once, until it expires): a stranger asking for a new link
    must not be able to void the one the real admin contact is about to use. Asking again within
    ``MANAGE_LINK_INTERVAL_MINUTES`` sends nothing and returns the recent link.
    """
    to = _admin_address(tld)
    now = timezone.now()
    with transaction.atomic():
        recent = (
            Invitation.objects.filter(
                tld=tld,
                purpose=Invitation.Purpose.MANAGE,
                status=Invitation.Status.SENT,
                created_at__gt=now - timedelta(minutes=MANAGE_LINK_INTERVAL_MINUTES),
            )
            .order_by("-created_at")
            .first()
        )
        if recent is not None:
            return recent
        invitation = Invitation.objects.create(
            tld=tld,
            purpose=Invitation.Purpose.MANAGE,
            sent_to=to,
            nonce=links.new_nonce(),
            created_at=now,
            last_sent_at=now,
            expires_at=now + timedelta(days=settings.INVITATION_TTL_DAYS),
        )
        _send_invitation_mail(invitation, reminder=False)
        record(actor, "manage-link", f"Management link for {tld.display} sent to {to}", tld=tld)
    return invitation


# --- Authorisation by the admin contact ------------------------------------------------------------


class AuthorisationRule:
    """Which rule accepted an authorisation; recorded on every membership it creates."""

    SIGNED_LINK = "signed-link"
    ADMIN_ADDRESS = "admin-address"
    ADMIN_IN_COPY = "admin-in-copy"
    SECRETARIAT = "secretariat"


def email_authorisation_rule(admin_email: str, sender: str, copied: Sequence[str]) -> str:
    """The community's rule for authorisations by email.

    Accepted from the IANA admin address itself, or from another address with the admin address in
    copy (many admin addresses are forwarders that cannot send). Anything else is refused.
    """
    admin = admin_email.strip().lower()
    if sender.strip().lower() == admin:
        return AuthorisationRule.ADMIN_ADDRESS
    if admin in {c.strip().lower() for c in copied}:
        return AuthorisationRule.ADMIN_IN_COPY
    raise NotAuthorised(
        _(
            "Authorisations must come from the IANA administrative contact address (%(admin)s) or "
            "have it in copy; this message came from %(sender)s without it."
        )
        % {"admin": admin_email, "sender": sender}
    )


@dataclass
class Authorisation:
    """The outcome of an authorisation: the contacts added and those removed."""

    added: list[Membership]
    removed: list[Membership]


def authorise_contacts(
    token: str,
    contacts: Sequence[ContactInput],
    *,
    door: str,
    remove: Sequence[int] = (),
    sender: str | None = None,
    copied: Sequence[str] = (),
) -> Authorisation:
    """The admin contact names (and, with a management link, removes) the ccTLD's contacts.

    ``sender``/``copied`` are given by the email door and checked with
    :func:`email_authorisation_rule`; through the signed link in the portal or API the link itself is
    the proof. ``remove`` lists contact numbers to remove first (replacing = remove + add); only a
    management link may (:func:`links.may_remove_contacts`), since an invitation goes to whatever
    address the catalog had when the secretariat sent it and may be forwarded.
    The link is used up by this call whether it adds, removes or both.

    Naming someone only proposes a membership that they confirm: an address that already belongs
    to a person (a member of another ccTLD, a staff account) leaves that person exactly as it is
    (see :func:`_add_membership`).
    """
    with transaction.atomic():
        invitation = links.open_invitation(token, for_update=True)
        tld = invitation.tld
        if sender is None:
            rule, authoriser = AuthorisationRule.SIGNED_LINK, invitation.sent_to
        else:
            rule = email_authorisation_rule(tld.admin_email or invitation.sent_to, sender, copied)
            authoriser = clean_email(sender)
        actor = Actor.authoriser(authoriser, door)
        if not contacts and not remove:
            raise InvalidInput(_("Name at least one contact."), field="contacts")
        if remove and not links.may_remove_contacts(invitation):
            raise NotAuthorised(
                _(
                    "An invitation link can only name contacts. To replace or remove a contact of "
                    "%(tld)s, ask for a management link at %(url)s; it is mailed to the IANA "
                    "administrative contact address."
                )
                % {"tld": tld.display, "url": f"{settings.BASE_URL}/manage/"},
                field="remove",
            )
        limit = settings.MAX_CONTACTS_PER_CCTLD
        if len(contacts) > limit:  # before cleaning each of them
            raise LimitReached(
                _("%(tld)s may have at most %(n)d contacts; %(add)d were named.")
                % {"tld": tld.display, "n": limit, "add": len(contacts)},
                field="contacts",
            )
        cleaned = clean_contacts(contacts, region=tld.phone_region or None)
        removed = [
            _end_membership(
                m, Membership.Status.REMOVED, actor, reason="removed by the admin contact"
            )
            for m in _open_memberships(tld, numbers=remove)
        ]
        current = Membership.objects.filter(tld=tld, status__in=Membership.OPEN)
        if current.count() + len(cleaned) > limit:
            raise LimitReached(
                _(
                    "%(tld)s may have at most %(n)d contacts; it has %(have)d, and %(add)d more were "
                    "named. Remove a contact first to replace it."
                )
                % {"tld": tld.display, "n": limit, "have": current.count(), "add": len(cleaned)},
                field="contacts",
            )
        already = set(current.values_list("person__email", flat=True))
        raise_all(
            [
                InvalidInput(
                    _("%(email)s is already a contact of %(tld)s.")
                    % {"email": c.email, "tld": tld.display},
                    field="email",
                    index=index,
                )
                for index, c in enumerate(cleaned)
                if c.email in already
            ]
        )
        added = [
            _add_membership(tld, c, actor=actor, rule=rule, authoriser=authoriser) for c in cleaned
        ]
        Invitation.objects.filter(pk=invitation.pk).update(
            status=Invitation.Status.ANSWERED, answered_at=timezone.now()
        )
        record(
            actor,
            "authorise",
            f"{tld.display}: {len(added)} contact(s) named, {len(removed)} removed ({rule})",
            tld=tld,
            after={
                "rule": rule,
                "added": [c.email for c in cleaned],
                "removed": [m.person.email for m in removed],
            },
        )
    return Authorisation(added=added, removed=removed)


def add_contact_by_secretariat(tld: Tld, contact: ContactInput, *, actor: Actor) -> Membership:
    """The secretariat records a contact the admin contact authorised outside the system
    (e.g. on paper). The same limit applies; the person still confirms their address."""
    _require_staff(actor)
    with transaction.atomic():
        Tld.objects.select_for_update().filter(pk=tld.pk).first()
        c = clean_contact(contact, region=tld.phone_region or None)
        if Membership.objects.filter(tld=tld, status__in=Membership.OPEN).count() >= (
            settings.MAX_CONTACTS_PER_CCTLD
        ):
            raise LimitReached(
                _("%(tld)s already has %(n)d contacts, the most allowed.")
                % {"tld": tld.display, "n": settings.MAX_CONTACTS_PER_CCTLD},
                field="contacts",
            )
        membership = _add_membership(
            tld, c, actor=actor, rule=AuthorisationRule.SECRETARIAT, authoriser=actor.label
        )
    return membership


def _open_memberships(tld: Tld, *, numbers: Sequence[int]) -> list[Membership]:
    if not numbers:
        return []
    if len(numbers) > 2 * settings.MAX_CONTACTS_PER_CCTLD:
        raise InvalidInput(_("Name at most a few contact numbers to remove."), field="remove")
    # Only numbers a contact can have reach the database: a huge one (2**70, from a hand-made
    # form, mail or API call) overflowed SQLite's integer and crashed the door.
    possible = [n for n in numbers if 1 <= n <= 32767]
    found = list(
        Membership.objects.select_related("person", "tld").filter(
            tld=tld, status__in=Membership.OPEN, number__in=possible
        )
    )
    missing = set(numbers) - {m.number for m in found}
    if missing:
        raise NotFound(
            _("%(tld)s has no contact number %(n)s.")
            % {"tld": tld.display, "n": ", ".join(str(n) for n in sorted(missing))},
            field="remove",
        )
    return found


def _next_number(tld: Tld) -> int:
    used = set(
        Membership.objects.filter(tld=tld, status__in=Membership.OPEN).values_list(
            "number", flat=True
        )
    )
    n = 1
    while n in used:
        n += 1
    return n


def _proposal(c: CleanContact) -> dict[str, object]:
    return {
        "name": c.name,
        "phones": [[number, label] for number, label in c.phones],
        "timezone": c.timezone,
        "languages": list(c.languages),
    }


def _add_membership(
    tld: Tld, c: CleanContact, *, actor: Actor, rule: str, authoriser: str
) -> Membership:
    """A pending membership for the address named, and the mail asking its owner to confirm.

    An authorisation never changes an existing person: whoever holds one ccTLD's link could
    otherwise rewrite the name, phones, time zone or languages of any member of another ccTLD, or
    of a staff account, just by naming their address. The details the authoriser typed are kept on
    the membership (``proposed``): a person new to TLD-OPS is created with them and accepts them by
    confirming (:func:`confirm_contact`); an existing person keeps their own, which only they change
    (:func:`update_profile`).
    """
    proposal = _proposal(c)
    person = Person.objects.filter(email__iexact=c.email).first()
    new_person = person is None
    if new_person:
        person = Person.objects.create(
            name=c.name, email=c.email, timezone=c.timezone, languages=c.languages
        )
        Phone.objects.bulk_create(
            [
                Phone(person=person, number=n, label=label, position=i)
                for i, (n, label) in enumerate(c.phones)
            ]
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                person=person,
                tld=tld,
                status=Membership.Status.PENDING,
                number=_next_number(tld),
                authorised_by=authoriser,
                authorisation_rule=rule,
                authorised_via=actor.door,
                authorised_at=timezone.now(),
                confirm_nonce=links.new_nonce(),
                proposed=proposal,
            )
    except IntegrityError:
        raise InvalidInput(
            _("%(email)s is already a contact of %(tld)s.")
            % {"email": c.email, "tld": tld.display},
            field="email",
        ) from None
    _send_confirmation_mail(person, tld, membership)
    record(
        actor,
        "contact-authorised",
        f"{c.name} <{person.email}> named as contact {membership.number} of {tld.display} ({rule})"
        + ("" if new_person else "; an existing person, whose details were left unchanged"),
        tld=tld,
        person=person,
        after={"proposed": proposal, "new_person": new_person},
    )
    return membership


def details_on_confirmation(membership: Membership) -> dict[str, object] | None:
    """The details that confirming ``membership`` records for its person, or ``None`` when it
    records none.

    Only someone new to TLD-OPS (no account, nothing confirmed yet) takes the details the
    authoriser gave, and only those of the membership they confirm, shown to them first: a second
    ccTLD naming the same address before they confirm cannot choose their phone numbers. Anyone
    else keeps their own details, whatever an authoriser typed.
    """
    person = membership.person
    if person.user_id is not None or not membership.proposed:
        return None
    if person.memberships.filter(confirmed_at__isnull=False).exists():
        return None
    return membership.proposed


def _apply_proposal(person: Person, proposal: dict[str, object]) -> None:
    person.name = str(proposal.get("name") or person.name)
    person.timezone = str(proposal.get("timezone") or "")
    person.languages = list(proposal.get("languages") or [])
    person.save(update_fields=["name", "timezone", "languages", "updated_at"])
    person.phones.all().delete()
    Phone.objects.bulk_create(
        [
            Phone(person=person, number=number, label=label, position=i)
            for i, (number, label) in enumerate(proposal.get("phones") or [])
        ]
    )


@outbox.mail_language()
def _send_confirmation_mail(person: Person, tld: Tld, membership: Membership) -> None:
    outbox.send_template(
        "directory/email/confirm.txt",
        {
            "person": person,
            "tld": tld,
            "membership": membership,
            "details": details_on_confirmation(membership),
            "link": f"{settings.BASE_URL}/confirm/{links.confirmation_token(membership)}/",
            "ttl_days": settings.CONFIRMATION_TTL_DAYS,
        },
        subject=_("TLD-OPS: confirm your address as a security contact of %(tld)s")
        % {"tld": tld.display},
        to=[person.email],
        purpose="confirmation",
    )


# --- The contact's own steps -----------------------------------------------------------------------


def confirm_contact(token: str, *, door: str, password: str | None = None) -> Membership:
    """Double opt-in: the named contact proves the address is theirs; the membership becomes active.

    On first confirmation the person gets a portal account (username = email); ``password`` sets it.
    The details recorded are those :func:`details_on_confirmation` gives (shown to the person on the
    confirmation page and in the mail): for anyone who already confirmed before, none.
    """
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with transaction.atomic():
        membership = links.open_confirmation(token)
        person = membership.person
        details = details_on_confirmation(membership)
        before, after = None, {"status": "active"}
        if details is not None:
            before = {"status": membership.status, **person.snapshot()}
            _apply_proposal(person, details)
            after.update(person.snapshot())
        if person.user is None:
            User = get_user_model()
            if password:
                try:
                    validate_password(password)
                except ValidationError as exc:
                    raise InvalidInput(" ".join(exc.messages), field="password") from None
            user = User.objects.filter(username__iexact=person.email).first()
            if user is None:
                user = User.objects.create_user(username=person.email, email=person.email)
                if password:
                    user.set_password(password)
                else:
                    user.set_unusable_password()
                user.save()
            person.user = user
            person.save(update_fields=["user"])
        membership.status = Membership.Status.ACTIVE
        membership.confirmed_at = timezone.now()
        membership.confirm_nonce = ""
        membership.save(update_fields=["status", "confirmed_at", "confirm_nonce"])
        Invitation.objects.filter(
            tld=membership.tld, status=Invitation.Status.SENT, purpose=Invitation.Purpose.INVITE
        ).update(status=Invitation.Status.ANSWERED, answered_at=timezone.now())
        record(
            Actor.of(person, door),
            "contact-confirmed",
            f"{person.name} confirmed as contact of {membership.tld.display}",
            tld=membership.tld,
            person=person,
            before=before,
            after=after,
        )
    return membership


def decline_contact(token: str, *, door: str) -> Membership:
    """The named person says no: the pending membership ends (status ``left``) and frees its place
    among the ccTLD's contacts at once, instead of holding it until the link expires. Nothing about
    the person changes; the link is used up."""
    with transaction.atomic():
        membership = links.open_confirmation(token)
        return _end_membership(
            membership,
            Membership.Status.LEFT,
            Actor.of(membership.person, door),
            reason="declined to be a contact",
        )


def update_profile(person: Person, change: ProfileChange, *, actor: Actor) -> Person:
    """A member edits their own phone numbers, time zone, languages (and name spelling).

    Checked by :func:`~tldops.directory.validation.clean_profile_change`, the rules that apply to
    a contact an authoriser names. Their ccTLDs' other contacts are told, so nobody learns of a
    changed 24/7 number too late.
    """
    if actor.person is None or (actor.person.pk != person.pk and not _is_staff(actor)):
        raise NotAuthorised(_("Members may change only their own details."))
    codes = next(
        iter(
            person.memberships.filter(status="active").values_list(
                "tld__iso_code", "tld__reserved_code"
            )
        ),
        ("", ""),
    )
    region = phone_region(*codes)
    clean = clean_profile_change(
        change, region=region or None, name=person.name, family_name=person.family_name
    )
    phones, tz, langs, name = clean.phones, clean.timezone, clean.languages, clean.name
    with transaction.atomic():
        before = person.snapshot()
        if phones is not None:
            person.phones.all().delete()
            Phone.objects.bulk_create(
                [
                    Phone(person=person, number=n, label=lbl, position=i)
                    for i, (n, lbl) in enumerate(phones)
                ]
            )
        if tz is not None:
            person.timezone = tz
        if langs is not None:
            person.languages = langs
        if name is not None:
            person.name = name
        if clean.family_name is not None:
            person.family_name = clean.family_name
        person.save()
        after = person.snapshot()
        if after == before:
            return person
        record(
            actor,
            "profile-updated",
            f"{person.name} updated their details",
            person=person,
            before=before,
            after=after,
        )
        # Which part of the name is the family name tells colleagues nothing new.
        if any(after[k] != before.get(k) for k in after if k != "family_name"):
            _tell_colleagues(person, before, after)
    return person


@outbox.mail_language()
def _tell_colleagues(person: Person, before: dict, after: dict) -> None:
    for tld, colleagues in queries.colleagues_by_tld(person):
        outbox.send_template(
            "directory/email/colleague_changed.txt",
            {"person": person, "tld": tld, "before": before, "after": after},
            subject=_("TLD-OPS: %(name)s updated their contact details for %(tld)s")
            % {"name": person.name, "tld": tld.display},
            to=colleagues,
            purpose="colleague-notice",
        )


def _end_membership(
    membership: Membership, status: str, actor: Actor, *, reason: str
) -> Membership:
    before = {"status": membership.status}
    membership.status = status
    membership.ended_at = timezone.now()
    membership.confirm_nonce = ""
    membership.save(update_fields=["status", "ended_at", "confirm_nonce"])
    record(
        actor,
        f"contact-{status}",
        f"{membership.person.name} no longer a contact of {membership.tld.display}: {reason}",
        tld=membership.tld,
        person=membership.person,
        before=before,
        after={"status": status},
    )
    colleagues = list(
        Membership.objects.filter(tld=membership.tld, status=Membership.Status.ACTIVE)
        .exclude(pk=membership.pk)
        .values_list("person__email", flat=True)
    )
    with outbox.mail_language():
        outbox.send_template(
            "directory/email/contact_ended.txt",
            {
                "membership": membership,
                "person": membership.person,
                "tld": membership.tld,
                "reason": reason,
            },
            subject=_("TLD-OPS: %(name)s is no longer a contact of %(tld)s")
            % {"name": membership.person.name, "tld": membership.tld.display},
            to=[membership.person.email],
            cc=colleagues,
            purpose="contact-ended",
        )
    return membership


def leave(person: Person, *, actor: Actor, tld: Tld | None = None) -> list[Membership]:
    """A member leaves one ccTLD's contacts, or all of them."""
    if actor.person is None or actor.person.pk != person.pk:
        raise NotAuthorised(_("Only the member may leave on their own behalf."))
    with transaction.atomic():
        qs = (
            person.memberships.select_for_update()
            .select_related("tld", "person")
            .filter(status__in=Membership.OPEN)
        )
        if tld is not None:
            qs = qs.filter(tld=tld)
        ended = [_end_membership(m, Membership.Status.LEFT, actor, reason="left") for m in qs]
        if not ended:
            raise NotFound(_("You are not a contact of that ccTLD."))
    return ended


def remove_contact(membership: Membership, *, actor: Actor, reason: str) -> Membership:
    """The secretariat removes a contact (e.g. on the admin contact's written request)."""
    _require_staff(actor)
    reason = clean_text(reason, field_name="reason", required=True, what=_("The reason"))
    if membership.status not in Membership.OPEN:
        raise InvalidInput(_("This contact is no longer active."))
    with transaction.atomic():
        return _end_membership(membership, Membership.Status.REMOVED, actor, reason=reason)


# --- Staff accounts --------------------------------------------------------------------------------


def _is_staff(actor: Actor) -> bool:
    return actor.role in (Role.SECRETARIAT, Role.COMMITTEE)


def _require_staff(actor: Actor) -> None:
    if actor.door not in ("cli", "system") and not _is_staff(actor):
        raise NotAuthorised(_("Only the secretariat and the standing committee may do this."))


def create_staff(
    *, name: str, email: str, role: str, password: str, position: str = "", actor: Actor
) -> Person:
    """Create a secretariat or committee account (``tldops createadmin``); a TOTP device is added
    at first login."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    if role not in (Role.SECRETARIAT, Role.COMMITTEE):
        raise InvalidInput(_("Role must be secretariat or committee."), field="role")
    if position not in {c for c, _label in CommitteePosition.choices}:
        raise InvalidInput(
            _("Unknown committee position “%(p)s”.") % {"p": position}, field="position"
        )
    if role == Role.SECRETARIAT and position:
        raise InvalidInput(
            _("Committee positions apply to committee accounts only."), field="position"
        )
    address = clean_email(email)
    name = clean_name(name) if (name or "").strip() else ""
    try:
        validate_password(password)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password") from None
    User = get_user_model()
    with transaction.atomic():
        if User.objects.filter(username__iexact=address).exists():
            raise InvalidInput(
                _("An account for %(e)s already exists.") % {"e": address}, field="email"
            )
        user = User.objects.create_user(username=address, email=address, password=password)
        person, _created = Person.objects.get_or_create(email=address, defaults={"name": name})
        person.name = name or person.name
        person.user = user
        person.role = role
        person.committee_position = position
        person.save()
        record(
            actor,
            "staff-created",
            f"{role} account created for {address}",
            person=person,
            after={"role": role, "position": position},
        )
    return person


def set_role(person: Person, *, role: str, position: str = "", actor: Actor) -> Person:
    """Change someone's role; only the committee may (policy)."""
    if actor.door != "cli" and actor.role != Role.COMMITTEE:
        raise NotAuthorised(_("Only the standing committee may change roles."))
    if role not in Role.values:
        raise InvalidInput(_("Unknown role “%(r)s”.") % {"r": role}, field="role")
    if position not in CommitteePosition.values or (position and role != Role.COMMITTEE):
        raise InvalidInput(
            _("Unknown committee position “%(p)s”, or a position for a non-committee role.")
            % {"p": position},
            field="position",
        )
    with transaction.atomic():
        before = {"role": person.role, "position": person.committee_position}
        person.role = role
        person.committee_position = position if role == Role.COMMITTEE else ""
        person.save(update_fields=["role", "committee_position"])
        record(
            actor,
            "role-changed",
            f"{person.email} is now {role}",
            person=person,
            before=before,
            after={"role": role, "position": person.committee_position},
        )
    return person
