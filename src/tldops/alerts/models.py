"""An alert (or query, or advisory) of the community, with its indicators, reactions, named
recipients (TLP:RED) and status history. Who may read one is :mod:`tldops.alerts.access`."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tldops.alerts.tlp import Tlp
from tldops.catalog.models import Tld
from tldops.directory.models import Person

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
