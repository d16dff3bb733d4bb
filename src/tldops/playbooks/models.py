"""What the playbooks keep in the database.

A ccTLD's own DR/BCP plan (:class:`Plan`): the ccTLD's specifics as one validated JSON document
(``values``, shape and bounds in :mod:`tldops.playbooks.plans`), its language, and a numbered
version per save (:class:`PlanVersion`) on which top management's sign-off is recorded
(:class:`SignOff`). :class:`ReviewReminder` is the yearly review reminder's "already sent" mark,
one per plan and period, written in the transaction that queues the mail.

Exercises and live use: a ccTLD's team runs a DR/BCP scenario or the DDoS playbook, as a
table-top exercise or for real (services in :mod:`tldops.playbooks.exercises`). An exercise is
linked to its ccTLD's plan by the ccTLD, and remembers the plan's version when it started. A live
DDoS incident may name an alert and a monitor incident: plain integers, not foreign keys, because
the playbooks do not import the alerts or the monitor (a capability never imports another); the
bridge :mod:`tldops.ops.playbook_links` checks them.

Everything here belongs to one ccTLD and is read and changed only by its active contacts
(:mod:`tldops.playbooks.access`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tldops.catalog.models import Tld
from tldops.directory.models import Person

TITLE_MAX = 160
NOTE_MAX = 2000
TEXT_MAX = 4000
ASSIGNEE_MAX = 120
ACTION_MAX = 300


class Exercise(models.Model):
    class Kind(models.TextChoices):
        EXERCISE = "exercise", _("Table-top exercise")
        LIVE = "live", _("Live incident")

    class Playbook(models.TextChoices):
        DDOS = "ddos", _("DDoS")
        DRBCP = "drbcp", _("DR/BCP")

    tld = models.ForeignKey(Tld, on_delete=models.CASCADE, related_name="exercises")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    playbook = models.CharField(max_length=10, choices=Playbook.choices)
    #: The DR/BCP scenario's id; "" for the DDoS playbook (its five phases).
    scenario = models.CharField(max_length=41, blank=True)
    language = models.CharField(max_length=5, default="en")
    title = models.CharField(max_length=TITLE_MAX)
    started_by = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: The version of the ccTLD's plan when the exercise started (none: no plan yet).
    plan_version = models.PositiveIntegerField(null=True, blank=True)
    #: A live DDoS incident's alert and monitor incident (ids; see the module's doc).
    alert_id = models.PositiveBigIntegerField(null=True, blank=True)
    monitor_incident_id = models.PositiveBigIntegerField(null=True, blank=True)
    # The after-action report, written when it ends.
    went_well = models.TextField(blank=True)
    to_change = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["tld", "started_at"], name="exercise_tld_started")]

    def __str__(self) -> str:
        return f"{self.title} (.{self.tld.alabel})"

    @property
    def running(self) -> bool:
        return self.ended_at is None


class ExerciseStep(models.Model):
    """A step of the scenario (or of a DDoS phase) as an item of the exercise's checklist."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    step_id = models.CharField(max_length=41)
    #: The stage (first_hour …) or the DDoS phase (prepare …) the step belongs to.
    stage = models.CharField(max_length=20)
    #: The step's title in the exercise's language, as it was when the exercise started.
    title = models.CharField(max_length=TITLE_MAX)
    #: The role the playbook gives the step (top-management …); "" when it names none.
    owner_role = models.CharField(max_length=30, blank=True)
    assignee = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assignee_text = models.CharField(max_length=ASSIGNEE_MAX, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "step_id"], name="uniq_exercise_step")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def assigned_to(self) -> str:
        return self.assignee.name if self.assignee else self.assignee_text


class Inject(models.Model):
    """A timed surprise of a table-top exercise: from the deck (``inject_id``) or added by the
    facilitator (``inject_id`` empty). Released once its time has come."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="injects")
    inject_id = models.CharField(max_length=61, blank=True)
    at_minutes = models.PositiveIntegerField()
    title = models.CharField(max_length=TITLE_MAX)
    text = models.TextField()
    released_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["at_minutes", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["exercise", "inject_id"],
                condition=~models.Q(inject_id=""),
                name="uniq_exercise_inject",
            )
        ]

    def __str__(self) -> str:
        return self.title


class TimelineEntry(models.Model):
    class Kind(models.TextChoices):
        # Nouns naming an entry, with a context: "Started", "Link" … are also labels and
        # buttons elsewhere, translated differently there.
        START = "start", pgettext_lazy("timeline entry", "Started")
        STEP = "step", pgettext_lazy("timeline entry", "Step")
        NOTE = "note", pgettext_lazy("timeline entry", "Note")
        INJECT = "inject", pgettext_lazy("timeline entry", "Inject")
        DECISION = "decision", pgettext_lazy("timeline entry", "Decision")
        LINK = "link", pgettext_lazy("timeline entry", "Link")
        END = "end", pgettext_lazy("timeline entry", "Ended")

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text[:40]}"


class ReportAction(models.Model):
    """An action of the after-action report: what to change, and who sees to it."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveIntegerField()
    text = models.CharField(max_length=ACTION_MAX)
    owner = models.CharField(max_length=ASSIGNEE_MAX, blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.text


class Plan(models.Model):
    """A ccTLD's own DR/BCP plan: one per ccTLD."""

    tld = models.OneToOneField(Tld, on_delete=models.PROTECT, related_name="plan")
    language = models.CharField(max_length=8, default="en")
    #: The ccTLD's specifics, as :func:`tldops.playbooks.plans.clean_values` returns them.
    values = models.JSONField(default=dict)
    #: The number of the last version saved (each save makes one).
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"plan of {self.tld}"


class SignedText(models.Model):
    """The localized playbook text one or more plan versions were signed with, stored once: a
    version's first sign-off points it here (:func:`tldops.playbooks.plans.freeze`), reusing the
    row with the same ``digest``, so that signing many versions with the same text (the usual
    case: the playbook changes a few times a year) stores 74–365 KB once, not once a version."""

    #: sha256 (hex) of the canonical JSON of the language and ``book``: the same text, one row.
    digest = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=8)
    #: The DR/BCP playbook's version (``version:`` of drbcp.yaml) of this text.
    content_version = models.PositiveIntegerField()
    #: {"book", "units", "review", "english"}: see :func:`tldops.playbooks.plans.freeze`.
    book = models.JSONField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"signed text {self.language} v{self.content_version} {self.digest[:12]}"


class PlanVersion(models.Model):
    """What a save made: the values as they were, with the playbook's content version and the
    language; from its first sign-off on, also the playbook's text it was signed with
    (``signed_text``), so that a signed version prints as it was signed."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    values = models.JSONField(default=dict)
    #: The DR/BCP playbook's version (``version:`` of drbcp.yaml) of the text that goes with the
    #: values: the one at the save, or once signed the one of ``signed_text``. An unsigned
    #: version prints with today's text, so its document shows today's content version.
    content_version = models.PositiveIntegerField()
    language = models.CharField(max_length=8)
    #: The localized playbook as signed (shared with every version signed with the same text);
    #: None until the first sign-off. PROTECT: a signed version's text is never deleted under it.
    signed_text = models.ForeignKey(
        SignedText, null=True, blank=True, on_delete=models.PROTECT, related_name="versions"
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="uniq_plan_version"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"


class SignOff(models.Model):
    """Top management's sign-off of one version: who signed (name, role), on which day, and which
    contact recorded it."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="signoffs")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=200)
    signed_on = models.DateField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-signed_on", "-recorded_at"]

    def __str__(self) -> str:
        return f"{self.version} signed by {self.name}"


class ReviewReminder(models.Model):
    """The yearly review reminder of ``plan`` for ``period`` (the anniversary it is for) was
    queued: written with the mail, so a crash leaves neither or both."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reminders")
    period = models.DateField()
    sent_at = models.DateTimeField()
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "period"], name="uniq_plan_reminder"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} reminder {self.period}"
