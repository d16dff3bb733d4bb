"""The mail core's models: raw inbound messages (stored before anything else happens) and the
outbox.

The outbox is the only queue for outgoing mail: one :class:`OutboundMessage` holds the bytes, one
:class:`Delivery` row per recipient tracks its fate, so a crash loses nothing and a restart resumes.
The tables keep the names they were made with in the ``lists`` app (``lists_inboundmessage``,
``lists_outboundmessage``, ``lists_delivery``): the models moved here without touching the data
(migrations ``mail.0001`` and ``lists.0006``).
"""

from __future__ import annotations

from django.db import models


class InboundMessage(models.Model):
    """Every message accepted by the SMTP/LMTP intake, stored raw before it is processed."""

    class Status(models.TextChoices):
        NEW = "new", "new"
        DONE = "done", "processed"
        REJECTED = "rejected", "rejected"
        FAILED = "failed", "failed"

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    mail_from = models.CharField(max_length=320)
    rcpt_to = models.JSONField(default=list)
    raw = models.BinaryField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW)
    route = models.CharField(max_length=32, blank=True)
    result = models.TextField(blank=True)
    # What the SMTP session told us, for our own SPF check (mail.senderauth): the connecting
    # address and the HELO/EHLO name. Empty for messages stored before they were recorded.
    peer = models.CharField(max_length=64, blank=True)
    helo = models.CharField(max_length=255, blank=True)
    # Our own Authentication-Results header value (RFC 8601), written when the sender is checked.
    auth_results = models.TextField(blank=True)

    class Meta:
        db_table = "lists_inboundmessage"  # where it was made, before the mail core had its app
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"from {self.mail_from} ({self.status})"


class OutboundMessage(models.Model):
    """A message to send, as bytes, with what it is for (``invitation``, ``confirmation`` …)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    purpose = models.CharField(max_length=32)
    subject = models.CharField(max_length=300)
    envelope_from = models.CharField(max_length=320)
    raw = models.BinaryField()
    #: List posts: each delivery gets its own VERP envelope sender (``…-bounces+<token>@…``).
    verp = models.BooleanField(default=False)

    class Meta:
        db_table = "lists_outboundmessage"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.purpose}: {self.subject}"


class Delivery(models.Model):
    """One recipient of one outbound message: pending until the MTA (or the sink) has it."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed permanently"

    message = models.ForeignKey(
        OutboundMessage, on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient = models.CharField(max_length=320)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        db_table = "lists_delivery"
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.status})"
