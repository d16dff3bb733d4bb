"""The mailing list's models: posts, the archive, bounces and per-sender overrides.

The messages themselves (inbound, outbound and their deliveries) are the mail core's
(:mod:`tldops.mail.models`); their tables keep the names they had when they lived here.
"""

from __future__ import annotations

from django.db import models

from tldops.mail.models import InboundMessage, OutboundMessage

# --- The mailing list (issue 3) --------------------------------------------------------------------


class Post(models.Model):
    """A message sent to the list's posting address, from intake to its outcome.

    The raw bytes stay on the :class:`InboundMessage`; this row records what the pipeline decided
    (``reasons``: which rules fired and why) and what moderators did. Held, rejected and discarded
    posts are never distributed nor archived.

    When a post is held, what moderators look at is stored here too (``excerpt``,
    ``attachment_list``, beside the sanitised ``sender_name`` and ``subject``), so the moderation
    queue in every door reads these columns and never loads nor parses the raw message.
    """

    class Status(models.TextChoices):
        HELD = "held", "held for moderation"
        ACCEPTED = "accepted", "accepted and distributed"
        REJECTED = "rejected", "rejected"
        DISCARDED = "discarded", "discarded"
        # Not for the list: another app delivered it to fewer people (a reply to a TLP:RED alert
        # goes to the alert's readers only; tldops.mail.community).
        DIVERTED = "diverted", "diverted to fewer readers"

    inbound = models.OneToOneField(InboundMessage, on_delete=models.PROTECT, related_name="post")
    message_id = models.CharField(max_length=998, db_index=True)
    sender = models.CharField(max_length=320, db_index=True)
    sender_name = models.CharField(max_length=300, blank=True)
    person = models.ForeignKey(
        "directory.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    subject = models.CharField(max_length=998, blank=True)
    size = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, db_index=True)
    # The From address was verified (mail.senderauth: authentic) when the post came in; another
    # app's watcher acts in the sender's name only then, also when a moderator approves it later.
    sender_authentic = models.BooleanField(default=False)
    reasons = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    moderation_nonce = models.CharField(max_length=32, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "directory.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_door = models.CharField(max_length=8, blank=True)
    decision_reason = models.TextField(blank=True)
    outbound = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    #: Held posts: the first characters of the text (``moderation.EXCERPT_CHARS``).
    excerpt = models.TextField(blank=True)
    #: Held posts: ``{"filename", "content_type", "size"}`` of the first attachments.
    attachment_list = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} from {self.sender} ({self.status})"


class SenderOverride(models.Model):
    """Per-sender exceptions a moderator sets: DMARC rewriting always/never (default: by policy)."""

    class Dmarc(models.TextChoices):
        AUTO = "auto", "by the author's DMARC policy"
        ALWAYS = "always", "always rewrite From"
        NEVER = "never", "never rewrite From"

    address = models.CharField(max_length=320, unique=True)
    dmarc = models.CharField(max_length=8, choices=Dmarc.choices, default=Dmarc.AUTO)
    # Pinned by a moderator: posts from this address are not held merely because its domain
    # offers no way to verify them (no DMARC record, no SPF -all); a proven forgery still is.
    pinned = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.address}: dmarc {self.dmarc}"


class ArchivedMessage(models.Model):
    """A distributed post in the members-only archive, threaded by Message-ID / References."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="archived")
    message_id = models.CharField(max_length=998, unique=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.JSONField(default=list, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    thread_root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="thread_messages"
    )
    subject = models.CharField(max_length=998, blank=True)
    author_name = models.CharField(max_length=300, blank=True)
    author_email = models.CharField(max_length=320)
    date = models.DateTimeField(db_index=True)
    body_text = models.TextField(blank=True)
    raw = models.BinaryField()

    class Meta:
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return self.subject or self.message_id


class Attachment(models.Model):
    message = models.ForeignKey(
        ArchivedMessage, on_delete=models.CASCADE, related_name="attachments"
    )
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    size = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["message", "id"]

    def __str__(self) -> str:
        return self.filename


# --- Digests (issue 9) -----------------------------------------------------------------------------


class DigestItem(models.Model):
    """A post waiting for one person's next digest: written with the post's fan-out, in its
    transaction (:func:`tldops.lists.distribute.fan_out`), deleted by the digest that carries it
    (:mod:`tldops.lists.digest`)."""

    person = models.ForeignKey("directory.Person", on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="digest_items")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "post"]
        constraints = [
            models.UniqueConstraint(fields=["person", "post"], name="one_digest_item_per_post")
        ]

    def __str__(self) -> str:
        return f"post {self.post_id} for person {self.person_id}"


class Digest(models.Model):
    """One digest sent to one person on one day (UTC). The unique (person, day) is the claim: of
    two workers building the same digest only the first commits, so nobody gets two a day."""

    person = models.ForeignKey(
        "directory.Person", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    day = models.DateField()
    format = models.CharField(max_length=8)
    count = models.PositiveIntegerField()
    outbound = models.ForeignKey(
        OutboundMessage, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "person"]
        constraints = [
            models.UniqueConstraint(fields=["person", "day"], name="one_digest_per_person_and_day")
        ]

    def __str__(self) -> str:
        return f"digest {self.day} for person {self.person_id} ({self.count})"
