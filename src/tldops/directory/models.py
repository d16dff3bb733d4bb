"""Directory models: people, their phones, their ccTLD memberships, invitations, audit and API tokens.

A *person* may be a contact of more than one ccTLD (one registry often runs several); the
*membership* is the vetted fact "this person is a security contact of this ccTLD", authorised by the
ccTLD's IANA administrative contact and confirmed by the person. Nothing here is public.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tldops.catalog.models import Tld
from tldops.mail.models import Delivery, InboundMessage


class Role(models.TextChoices):
    MEMBER = "member", _("Member")
    SECRETARIAT = "secretariat", _("Secretariat")
    COMMITTEE = "committee", _("Standing committee")


class CommitteePosition(models.TextChoices):
    NONE = "", _("—")
    CHAIR = "chair", _("Chair")
    VICE_CHAIR = "vice-chair", _("Vice-chair")
    MEMBER = "member", _("Member")
    LIAISON = "liaison", _("Liaison")


class DeliveryMode(models.TextChoices):
    """How a person receives the list's posts (:mod:`tldops.directory.delivery`)."""

    REGULAR = "regular", _("each post as it is sent")
    DIGEST = "digest", _("one digest a day")
    NOMAIL = "nomail", _("no list mail until a date")


class DigestFormat(models.TextChoices):
    MIME = "mime", _("MIME (each post attached as a message)")
    PLAIN = "plain", _("plain text")


def split_name(name: str, family_name: str) -> tuple[str, str]:
    """``(family, given)``: the family name as given and the rest of ``name`` without it (once,
    wherever it stands: "王伟" with family "王" gives "伟", "Martin, Élodie" gives "Élodie");
    ``("", "")`` when there is no family name."""
    if not family_name or family_name not in name:
        return "", ""
    rest = name.replace(family_name, " ", 1)
    return family_name, " ".join(rest.replace(",", " ").split())


class Person(models.Model):
    """Someone the directory knows: a ccTLD contact, a secretariat member or a committee member.

    The delivery fields say how the list's posts reach them (:mod:`tldops.directory.delivery`);
    ``receive_list`` and ``receive_editions`` are the choice of staff who are no ccTLD's contact
    (a member receives both, always). ``email_change_*`` hold an address change the person asked
    for and has not yet confirmed from the new address (:mod:`tldops.directory.email_change`).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    name = models.CharField(_("name"), max_length=200)
    # The part of ``name`` that is the family name, as the person wrote it there; empty when they
    # did not say (no rule splits every culture's names right, so tldops never guesses). The
    # vCard's structured name (N) comes from it.
    family_name = models.CharField(_("family name"), max_length=200, blank=True)
    email = models.EmailField(_("email"), unique=True)
    alt_emails = models.JSONField(_("other email addresses"), default=list, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    committee_position = models.CharField(
        max_length=16, choices=CommitteePosition.choices, default="", blank=True
    )
    receive_list = models.BooleanField(_("receive the list's posts (staff)"), default=True)
    receive_editions = models.BooleanField(
        _("receive the monthly repository editions (staff)"), default=True
    )
    delivery_mode = models.CharField(
        _("list delivery"), max_length=8, choices=DeliveryMode.choices, default=DeliveryMode.REGULAR
    )
    digest_format = models.CharField(
        _("digest format"), max_length=8, choices=DigestFormat.choices, default=DigestFormat.MIME
    )
    nomail_until = models.DateField(_("no list mail until"), null=True, blank=True)
    email_change_to = models.EmailField(blank=True)
    email_change_nonce = models.CharField(max_length=32, blank=True)
    email_change_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def given_names(self) -> str:
        """The name without the family name (``""`` when no family name is set)."""
        return split_name(self.name, self.family_name)[1]

    def snapshot(self) -> dict[str, object]:
        """The person's editable details, as the audit log records them before and after a change."""
        return {
            "name": self.name,
            "family_name": self.family_name,
            "email": self.email,
            "alt_emails": list(self.alt_emails),
            "timezone": self.timezone,
            "languages": list(self.languages),
            "phones": [{"number": p.number, "label": p.label} for p in self.phones.all()],
        }


class Phone(models.Model):
    class Label(models.TextChoices):
        OFFICE = "office", _("office")
        MOBILE = "mobile", _("mobile")
        H24 = "24/7", _("24/7")
        OTHER = "other", _("other")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number (E.164)"), max_length=20)
    label = models.CharField(max_length=8, choices=Label.choices, default=Label.OFFICE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["person", "position", "id"]

    def __str__(self) -> str:
        return f"{self.number} ({self.label})"


class Membership(models.Model):
    """A person as a security contact of one ccTLD."""

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting confirmation")
        ACTIVE = "active", _("active")
        REMOVED = "removed", _("removed")
        LEFT = "left", _("left")

    OPEN = (Status.PENDING, Status.ACTIVE)

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    tld = models.ForeignKey(Tld, on_delete=models.PROTECT, related_name="memberships")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    number = models.PositiveSmallIntegerField(
        _("contact number"), help_text=_("Contact number within the ccTLD (1, 2, 3 …)")
    )
    authorised_by = models.EmailField(_("authorised by"))
    authorisation_rule = models.CharField(max_length=24)
    authorised_via = models.CharField(max_length=8)
    authorised_at = models.DateTimeField()
    confirm_nonce = models.CharField(max_length=32, blank=True)
    proposed = models.JSONField(
        _("details given by the authoriser"),
        default=dict,
        blank=True,
        help_text=_(
            "Name, phones, time zone and languages as the authoriser typed them. They never "
            "change an existing person; a person new to TLD-OPS accepts them by confirming."
        ),
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tld__alabel", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "tld"],
                condition=Q(status__in=["pending", "active"]),
                name="one_open_membership_per_person_and_tld",
            ),
            models.UniqueConstraint(
                fields=["tld", "number"],
                condition=Q(status__in=["pending", "active"]),
                name="one_open_contact_number_per_tld",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name} for .{self.tld.alabel} ({self.status})"

    @property
    def named_as(self) -> str:
        """The name to show the authoriser. Until the person confirms, it is the name the
        authoriser typed: the name of an existing person is theirs, not the authoriser's to learn."""
        if self.confirmed_at is None and self.proposed.get("name"):
            return str(self.proposed["name"])
        return self.person.name


class Invitation(models.Model):
    """A signed, expiring, single-use link sent to a ccTLD's IANA administrative contact.

    ``purpose`` is *invite* for the secretariat's invitation to join, *manage* for a link the admin
    contact asks for later to replace or remove contacts.
    """

    class Purpose(models.TextChoices):
        INVITE = "invite", _("invitation")
        MANAGE = "manage", _("management link")

    class Status(models.TextChoices):
        SENT = "sent", _("sent")
        ANSWERED = "answered", _("answered")
        EXPIRED = "expired", _("expired")
        CANCELLED = "cancelled", _("cancelled")

    tld = models.ForeignKey(Tld, on_delete=models.PROTECT, related_name="invitations")
    purpose = models.CharField(max_length=8, choices=Purpose.choices, default=Purpose.INVITE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    sent_to = models.EmailField()
    nonce = models.CharField(max_length=32)
    batch = models.CharField(max_length=100, blank=True)
    invited_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_sent_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "purpose"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} for .{self.tld.alabel} ({self.status})"


class AuditEntry(models.Model):
    """Who changed what, when, through which door, with the state before and after."""

    class Door(models.TextChoices):
        WEB = "web", _("web")
        API = "api", _("API")
        CLI = "cli", _("CLI")
        EMAIL = "email", _("email")
        SYSTEM = "system", _("system")

    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=300)
    actor_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    door = models.CharField(max_length=8, choices=Door.choices)
    action = models.CharField(max_length=64, db_index=True)
    tld = models.ForeignKey(Tld, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    summary = models.CharField(max_length=500)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once when created.

    ``scope`` is the role the token was created under (staff only from a session that proved its
    TOTP code): a token never gives more than that role's powers, nor more than the person's role
    now (:func:`tldops.directory.permissions.role_of`). A token made as a member gains nothing when
    its owner joins the secretariat or the committee.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Version(models.Model):
    """A counter bumped by every audited change (see :func:`tldops.directory.audit.record`).

    Cached pages are keyed on it. A counter row, rather than the newest audit id, because on
    PostgreSQL ids are handed out in start order, not commit order; updating one row serialises
    the writers, so a reader never sees a number that a later commit leaves unchanged.
    """

    key = models.CharField(max_length=32, primary_key=True)
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}={self.n}"


# --- Reachability of addresses (fed by bounces and answers: directory.bounces) --------------------


class BounceEvent(models.Model):
    """One bounce (DSN or VERP-attributed failure) for an address."""

    class Kind(models.TextChoices):
        HARD = "hard", "hard (permanent)"
        SOFT = "soft", "soft (temporary)"
        POLICY = "policy", "policy or spam rejection"

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    address = models.CharField(max_length=320, db_index=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="bounces"
    )
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="bounces"
    )
    inbound = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="bounces"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status_code = models.CharField(max_length=16, blank=True)
    diagnostic = models.TextField(blank=True)

    class Meta:
        db_table = "lists_bounceevent"  # made by the list, before scores moved to the directory
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.address} {self.kind} {self.status_code}"


class BounceScore(models.Model):
    """The decaying bounce score of an address; at the threshold the address is unreachable."""

    address = models.CharField(max_length=320, unique=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.FloatField(default=0.0)
    updated_at = models.DateTimeField()
    last_bounce_at = models.DateTimeField(null=True, blank=True)
    unreachable_since = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "lists_bouncescore"

    def __str__(self) -> str:
        return f"{self.address}: {self.score:.1f}"
