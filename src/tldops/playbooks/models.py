"""The playbooks' stored data.

A ccTLD's own DR/BCP plan (:class:`Plan`): the ccTLD's specifics as one validated JSON document
(``values``, shape and bounds in :mod:`tldops.playbooks.plans`), its language, and a numbered
version per save (:class:`PlanVersion`) on which top management's sign-off is recorded
(:class:`SignOff`). Only the ccTLD's active contacts read or change any of it
(:mod:`tldops.playbooks.access`). :class:`ReviewReminder` is the yearly review reminder's
"already sent" mark, one per plan and period, written in the transaction that queues the mail.
"""

from __future__ import annotations

from django.db import models

from tldops.catalog.models import Tld
from tldops.directory.models import Person


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


class PlanVersion(models.Model):
    """What a save made: the values as they were, with the playbook's content version and the
    language, so that a signed version prints as it was signed."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    values = models.JSONField(default=dict)
    content_version = models.PositiveIntegerField()
    language = models.CharField(max_length=8)
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
