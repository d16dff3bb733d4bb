"""An alert (or query, or advisory) of the community, with its indicators, reactions, named
recipients (TLP:RED) and status history. Who may read one is :mod:`tldops.alerts.access`."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tldops.alerts.tlp import Tlp
from tldops.catalog.models import Tld
from tldops.directory.models import Person
from tldops.mail.models import OutboundMessage

TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 100_000


class Alert(models.Model):
    class Kind(models.TextChoices):
        ALERT = "alert", _("alert")
        QUERY = "query", _("query")
        ADVISORY = "advisory", _("advisory")

    class Category(models.TextChoices):
        DDOS = "ddos", _("DDoS")
        PHISHING = "phishing", _("phishing")
        MALWARE = "malware", _("malware or botnet (incl. DGA)")
        HIJACK = "hijack", _("DNS hijack or registry/registrar account compromise")
        VULNERABILITY = "vulnerability", _("vulnerability")
        OUTAGE = "outage", _("outage")
        OTHER = "other", _("other")

    class Severity(models.TextChoices):
        LOW = "low", _("low")
        MEDIUM = "medium", _("medium")
        HIGH = "high", _("high")
        CRITICAL = "critical", _("critical")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        MONITORING = "monitoring", _("monitoring")
        RESOLVED = "resolved", _("resolved")

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ALERT)
    category = models.CharField(max_length=16, choices=Category.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    # Never translated (FIRST): stored as written, "AMBER+STRICT".
    tlp = models.CharField(max_length=12, choices=[(t.value, t.tag) for t in Tlp])
    # Only a TLP:CLEAR alert may be shown on public pages, and only if its author chose so.
    public = models.BooleanField(default=False)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    body = models.TextField(blank=True)  # Markdown, rendered safely
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="alerts")
    author_tld = models.ForeignKey(
        Tld, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    affected = models.ManyToManyField(Tld, blank=True, related_name="alerts")
    # TLP:RED: the people the author named, the only ones (with the author) who may read it.
    recipients = models.ManyToManyField(Person, blank=True, related_name="red_alerts")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The Message-ID of the alert's mail (its list post, or its copies to RED readers): replies
    # that name it, or any message of its thread, attach to the alert (tldops.alerts.mail).
    message_id = models.CharField(max_length=998, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tlp", "-created_at"]),
            # The list's order (newest first): its first page is read from this index and stops
            # after 50 rows, instead of sorting every alert the reader may read
            # (bench/load_directory.py, 10,000 alerts: 67 → 20 ms of SQL for the first page).
            models.Index(fields=["-created_at", "-id"], name="alert_newest"),
            # Counting what a reader may read (every list's "N alerts") needs only these two
            # columns: counted from this index, not from the rows (10,000 alerts: 2.6 → 0.8 ms).
            models.Index(fields=["tlp", "author"], name="alert_tlp_author"),
        ]

    def __str__(self) -> str:
        return f"alert {self.pk} [{Tlp(self.tlp).tag}]"

    @property
    def label(self) -> Tlp:
        return Tlp(self.tlp)

    @classmethod
    def touch(cls, pk: int) -> None:
        """Mark alert ``pk`` changed (``updated_at``) when something its page shows changes
        without a save of the alert: an answer, a reply, indicators, slices. The portal keeps
        each reader's copy of the page under this time (tldops.web.views.alerts)."""
        cls.objects.filter(pk=pk).update(updated_at=timezone.now())


class StatusChange(models.Model):
    """One step of an alert's status: open → monitoring → resolved (or back), who and when."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="status_changes")
    before = models.CharField(max_length=12, blank=True)
    after = models.CharField(max_length=12)
    by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL)
    door = models.CharField(max_length=8, default="web")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"alert {self.alert_id}: {self.before or '-'} → {self.after}"


#: Characters of a reply's text kept in the alert's thread (the list archive keeps the message).
THREAD_TEXT_MAX_LENGTH = 20_000


class ThreadMessage(models.Model):
    """One message of an alert's thread: the alert's own mail and every reply that names it
    (In-Reply-To, References). A reply to a TLP:RED alert exists only here and in its readers'
    mailboxes: it is never on the list nor in its archive."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="thread")
    message_id = models.CharField(max_length=998, db_index=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    text = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.message_id} in alert {self.alert_id}"


class Indicator(models.Model):
    """One normalised indicator of an alert (``kind`` and ``value`` as
    :mod:`tldops.alerts.indicators` returns them)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="indicators")
    kind = models.CharField(max_length=16)
    value = models.CharField(max_length=2048)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "kind", "value"], name="uniq_indicator")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Reaction(models.Model):
    """A member's answer to an alert, one per person (a new one replaces it)."""

    class Kind(models.TextChoices):
        SEEN = "seen", _("seen here too")
        NOT_SEEN = "not-seen", _("not seen")
        FALSE_POSITIVE = "false-positive", _("false positive")
        MITIGATED = "mitigated", _("mitigated")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="reactions")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    # The ccTLD they answer for (their own, when they are a contact of one).
    tld = models.ForeignKey(Tld, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    count = models.PositiveIntegerField(null=True, blank=True)  # sightings, for "seen"
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["alert", "person"], name="uniq_reaction")]

    def __str__(self) -> str:
        return f"{self.kind} on alert {self.alert_id}"


class SliceJob(models.Model):
    """An alert's per-ccTLD slicing (:mod:`tldops.alerts.slices`): the database is its queue.

    ``pending`` is set, in the same transaction, whenever domain indicators are stored for the
    alert; the worker claims the row by clearing it (one conditional update), slices the domain
    indicators above ``done_up_to`` (a high-water mark of ``Indicator.id``) and moves the mark,
    all in one transaction with the mail it queues: each name is sent once, whatever crashes."""

    alert = models.OneToOneField(Alert, on_delete=models.CASCADE, related_name="slice_job")
    pending = models.BooleanField(default=True)
    queued_at = models.DateTimeField()
    # A job that failed is tried again after a growing pause (the error is logged and kept).
    next_attempt_at = models.DateTimeField()
    failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    done_up_to = models.BigIntegerField(default=0)  # the highest Indicator.id sliced
    not_cctld = models.PositiveBigIntegerField(default=0)  # names under gTLDs and the like
    invalid = models.PositiveBigIntegerField(default=0)
    # Why ccTLDs without members were not sent to the secretariat (TLP:RED, none of it named).
    outreach_skipped = models.CharField(max_length=200, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["pending", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"slices of alert {self.alert_id} ({'pending' if self.pending else 'done'})"


class AlertSlice(models.Model):
    """One slice sent (or not) for an alert: the names under one ccTLD of one run. ``member``:
    the ccTLD had active contacts (the slice went to them); otherwise to the secretariat for
    outreach. ``recipients`` counts the people the mail went to (0: nobody may read the alert,
    ``sent_at`` empty and ``note`` says why)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="slices")
    tld = models.ForeignKey(Tld, on_delete=models.PROTECT, related_name="+")
    names = models.PositiveBigIntegerField()
    member = models.BooleanField()
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    # The first Indicator.id of the run: a ccTLD has one row per run that found names under it.
    run_from = models.BigIntegerField()

    class Meta:
        ordering = ["alert", "tld__alabel", "run_from"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "tld", "run_from"], name="uniq_alert_slice")
        ]

    def __str__(self) -> str:
        return f"alert {self.alert_id}: {self.names} name(s) under ccTLD #{self.tld_id}"


#: How many personal filters one person may keep (each is checked on every alert raised).
MAX_FILTERS_PER_PERSON = 20


class AlertFilter(models.Model):
    """A member's personal filter (:mod:`tldops.alerts.notify`): the alerts of these categories
    (empty: all), affecting one of these ccTLDs (empty: all), of at least this severity, reach the
    member at once by a personal mail (``immediate``) or in their daily alert digest (``digest``),
    in addition to the list's copy. Who may read the alert still decides (TLP)."""

    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", _("immediately, one mail per alert")
        DIGEST = "digest", _("in a daily digest")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="alert_filters")
    # Values of Alert.Category; empty: every category.
    categories = models.JSONField(default=list, blank=True)
    # Empty: every alert; otherwise an alert matches if any of its affected ccTLDs is here.
    tlds = models.ManyToManyField(Tld, blank=True, related_name="+")
    min_severity = models.CharField(
        max_length=10, choices=Alert.Severity.choices, default=Alert.Severity.LOW
    )
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IMMEDIATE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["person", "id"]

    def __str__(self) -> str:
        return f"alert filter {self.pk} of person {self.person_id} ({self.mode})"


class AlertDigestItem(models.Model):
    """An alert waiting for a person's next daily alert digest; deleted once sent."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "alert"]
        constraints = [
            models.UniqueConstraint(fields=["person", "alert"], name="uniq_alert_digest_item")
        ]

    def __str__(self) -> str:
        return f"alert {self.alert_id} for person {self.person_id}'s digest"


class AlertDigest(models.Model):
    """One alert digest sent to one person on one day (UTC). The unique (person, day) is the
    claim, as for the list's digests: of two workers only the first commits."""

    person = models.ForeignKey(Person, null=True, on_delete=models.SET_NULL, related_name="+")
    day = models.DateField()
    count = models.PositiveIntegerField()
    outbound = models.ForeignKey(
        OutboundMessage, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "person"]
        constraints = [
            models.UniqueConstraint(fields=["person", "day"], name="one_alert_digest_per_day")
        ]

    def __str__(self) -> str:
        return f"alert digest of {self.day} for person {self.person_id}"
