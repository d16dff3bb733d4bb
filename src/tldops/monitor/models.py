"""What the monitor keeps: vantage points, their sweeps, the time series, and incidents.

- :class:`Probe`: a vantage point. The hub's built-in one (``builtin``) and one per probe a member
  created in the portal; a member's probe authenticates with its token and signs its reports.
- :class:`Sweep`: one sweep of one probe (its statistics); :class:`Observation`: one address of one
  name server in that sweep (the raw time series, kept ``MONITOR_RAW_DAYS`` days);
  :class:`Rollup`: the same series downsampled per hour, then per day, after that.
- :class:`Finding`: a finding of a sweep (codes in :mod:`tldops.monitor.codes`).
- :class:`Incident`: what several vantage points agree is wrong with one ccTLD (one live incident
  per ccTLD), its problems (:class:`IncidentProblem`) and its timeline (:class:`IncidentEvent`). ``alert_id`` names the alert raised for it, without a foreign key:
  the monitor and the alerts are capabilities side by side and never import each other.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tldops.catalog.models import Tld
from tldops.directory.models import Person

NAME_MAX_LENGTH = 64
DETAIL_MAX_LENGTH = 500
NOTE_MAX_LENGTH = 5_000


class Probe(models.Model):
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    owner = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="probes"
    )
    builtin = models.BooleanField(default=False)  # the hub's own probe (exactly one)
    # The token is shown once; the hub keeps its prefix (to find the probe) and a hash.
    token_prefix = models.CharField(max_length=16, unique=True, null=True, blank=True)
    token_hash = models.CharField(max_length=128, blank=True)
    # Ed25519 public key (raw, base64) the probe signs its reports with.
    public_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_report_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["builtin"], condition=models.Q(builtin=True), name="one_builtin_probe"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Sweep(models.Model):
    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="sweeps")
    # The probe's own id for the report: sending the same report twice stores it once.
    report_id = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    zones = models.PositiveIntegerField(default=0)
    servers = models.PositiveIntegerField(default=0)
    queries = models.PositiveIntegerField(default=0)
    wall_s = models.FloatField(default=0.0)
    cpu_s = models.FloatField(default=0.0)
    # Its observations are in the hourly rollups and deleted (monitor.retention).
    rolled_up = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["probe", "report_id"], name="uniq_sweep_report"),
        ]
        indexes = [
            models.Index(fields=["probe", "-started_at"], name="sweep_probe_started"),
            # The window of agreement and retention read sweeps by time across probes.
            models.Index(fields=["started_at"], name="sweep_started"),
        ]

    def __str__(self) -> str:
        return f"{self.probe_id}@{self.started_at:%Y-%m-%d %H:%M}"


class Observation(models.Model):
    """One address of one name server of one ccTLD in one sweep (see results.Sample)."""

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="observations")
    tld = models.ForeignKey(Tld, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()  # the sweep's start, repeated for the series' index
    server = models.CharField(max_length=253)
    address = models.GenericIPAddressField()
    status = models.CharField(max_length=20)
    udp_ms = models.FloatField(null=True)
    tcp_ms = models.FloatField(null=True)
    serial = models.BigIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["tld", "at"], name="observation_tld_at")]

    def __str__(self) -> str:
        return f"{self.server} {self.address} {self.status}"


class Rollup(models.Model):
    """Observations of one (probe, ccTLD, server, address) over an hour or a day."""

    class Span(models.TextChoices):
        HOUR = "hour", _("hour")
        DAY = "day", _("day")

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="+")
    tld = models.ForeignKey(Tld, on_delete=models.CASCADE, related_name="+")
    server = models.CharField(max_length=253)
    address = models.GenericIPAddressField()
    span = models.CharField(max_length=4, choices=Span.choices)
    start = models.DateTimeField()
    samples = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)  # samples with status ok
    udp_ms_avg = models.FloatField(null=True)
    udp_ms_max = models.FloatField(null=True)
    tcp_ms_avg = models.FloatField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["probe", "tld", "server", "address", "span", "start"], name="uniq_rollup"
            ),
        ]
        indexes = [
            models.Index(fields=["tld", "span", "start"], name="rollup_tld_span_start"),
            # Retention finds the oldest hourly rollups (monitor.retention).
            models.Index(fields=["span", "start"], name="rollup_span_start"),
        ]

    def __str__(self) -> str:
        return f"{self.server} {self.address} {self.span} {self.start:%Y-%m-%d %H:%M}"


class Finding(models.Model):
    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="findings")
    tld = models.ForeignKey(Tld, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    server = models.CharField(max_length=253, blank=True)
    address = models.CharField(max_length=45, blank=True)
    code = models.CharField(max_length=40)
    severity = models.PositiveSmallIntegerField()  # codes.Severity
    detail = models.CharField(max_length=DETAIL_MAX_LENGTH, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tld", "at"], name="finding_tld_at")]

    def __str__(self) -> str:
        return f"{self.code} {self.server} {self.address}".strip()


class Incident(models.Model):
    class Status(models.TextChoices):
        # A context of their own: "open" is also an alert's status, and the two are not the same
        # word in every language (French: une alerte ouverte, un incident ouvert).
        OPEN = "open", pgettext_lazy("incident status", "open")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        CLOSED = "closed", _("closed")

    tld = models.ForeignKey(Tld, on_delete=models.CASCADE, related_name="incidents")
    # The worst of its problems not cleared (kept up to date by monitor.incidents.evaluate): what
    # lists and tiles show. The problems themselves are IncidentProblem rows.
    code = models.CharField(max_length=40)
    server = models.CharField(max_length=253, blank=True)  # "" for the whole ccTLD
    severity = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    recovered_at = models.DateTimeField(
        null=True, blank=True
    )  # the vantage points agree it is gone
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # The alert prepared for the list (draft until raised; see monitor docs).
    draft_title = models.CharField(max_length=200, blank=True)
    draft_body = models.TextField(blank=True)
    # The alerts' category for it: "outage", or "ddos" (monitor.incidents.draft_category).
    draft_category = models.CharField(max_length=16, blank=True)
    alert_id = models.PositiveBigIntegerField(null=True, blank=True)
    # The last time at least MONITOR_AGREEMENT vantage points saw one of its problems: an incident
    # nobody confirms for MONITOR_STALE_HOURS is closed as stale (monitor.incidents).
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tld", "status"], name="incident_tld_status")]
        constraints = [
            # At most one incident not closed per ccTLD: one outage, one incident, one mail.
            models.UniqueConstraint(
                fields=["tld"],
                condition=~models.Q(status="closed"),
                name="one_live_incident_per_tld",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.server}".strip()


class IncidentProblem(models.Model):
    """One problem (code, server) the vantage points agreed on, within its ccTLD's incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="problems")
    code = models.CharField(max_length=40)
    server = models.CharField(max_length=253, blank=True)  # "" for the whole ccTLD
    severity = models.PositiveSmallIntegerField()
    first_seen = models.DateTimeField()
    # The vantage points agree it is gone (null: still there). It may come back: null again.
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-severity", "code", "server"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "code", "server"], name="uniq_incident_problem"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.server}".strip()


class IncidentEvent(models.Model):
    class Kind(models.TextChoices):
        OPENED = "opened", _("opened")
        SEEN = "seen", _("seen by a vantage point")
        PROBLEM = "problem", _("problem seen")
        CLEARED = "cleared", _("problem cleared")
        WORSENED = "worsened", _("worsened")
        STALE = "stale", _("closed as stale")
        RECOVERED = "recovered", _("recovered")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        NOTE = "note", _("note")
        CLOSED = "closed", _("closed")
        NOTIFIED = "notified", _("contacts notified")
        ALERT = "alert", _("alert raised")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    probe = models.ForeignKey(
        Probe, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.kind
