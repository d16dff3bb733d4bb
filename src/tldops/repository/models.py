"""Repository editions and reachability challenges.

Both are *periodic*: an edition per month (``2026-11``), a challenge round per check period
(``2026-Q4`` by default). The unique ``period`` column is what makes a period run exactly once:
the row is inserted in the same transaction that queues the mail, so two schedulers, a restart or
two worker processes can never both send (see :mod:`tldops.repository.editions`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tldops.directory.models import Membership, Person
from tldops.mail.models import OutboundMessage


class Edition(models.Model):
    """One monthly contact repository, kept for ever so it can be re-sent or downloaded.

    ``data`` is the snapshot the renderings were made from (:mod:`tldops.repository.snapshot`);
    the renderings are stored too, byte for byte, so a past edition is always exactly what was
    sent, even after the templates change.
    """

    period = models.CharField(_("edition"), max_length=7, unique=True)  # "2026-11"
    generated_at = models.DateTimeField()
    data = models.JSONField()
    people = models.PositiveIntegerField(default=0)
    cctlds = models.PositiveIntegerField(default=0)
    changes = models.JSONField(default=dict)  # {"joined": [...], "left": [...], "changed": [...]}
    text = models.TextField()
    csv = models.TextField()
    vcf = models.TextField()
    pdf = models.BinaryField()
    signer = models.CharField(max_length=64, blank=True)  # OpenPGP fingerprint; "" = unsigned
    raw = models.BinaryField(null=True)  # the MIME message as queued (signed when signer is set)
    message = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    trigger = models.CharField(max_length=16, default="schedule")  # schedule | cli | web | api

    class Meta:
        ordering = ["-period"]

    def __str__(self) -> str:
        return f"contact repository {self.period}"


class ChallengeRound(models.Model):
    """One reachability check period: every active member got one challenge in it."""

    period = models.CharField(max_length=16, unique=True)  # "2026-Q4"
    started_at = models.DateTimeField()
    trigger = models.CharField(max_length=16, default="schedule")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"reachability round {self.period}"


class Challenge(models.Model):
    """A challenge ("are you still there?") sent to one person; answered by a click or a reply."""

    class Via(models.TextChoices):
        CLICK = "click", _("link")
        REPLY = "reply", _("reply")

    round = models.ForeignKey(ChallengeRound, on_delete=models.CASCADE, related_name="challenges")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="challenges")
    # The memberships (ccTLDs) the person was a contact of when challenged; escalation tells their
    # colleagues of these ccTLDs.
    memberships = models.ManyToManyField(Membership, related_name="+", blank=True)
    nonce = models.CharField(max_length=32)
    sent_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_via = models.CharField(max_length=8, choices=Via.choices, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["round", "person"], name="one_challenge_per_round")
        ]
        indexes = [models.Index(fields=["answered_at", "reminded_at", "escalated_at"])]

    def __str__(self) -> str:
        return f"challenge {self.round.period} for {self.person.email}"
