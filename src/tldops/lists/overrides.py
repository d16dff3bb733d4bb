"""Per-sender overrides: the moderators' exceptions to "rewrite From by the author's policy", and
pinned senders (posts not held merely because their domain offers no way to verify them).

``always``: rewrite this author's From even without a strict DMARC policy (a domain known to
filter list mail); ``never``: keep it (a domain whose policy record is wrong but which accepts
list mail); ``auto``: back to the policy (the same as no override). Read by
:mod:`tldops.lists.handlers.dmarc`; every change is audited.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from tldops.directory.audit import Actor, record
from tldops.directory.validation import clean_email, clean_text
from tldops.kernel.errors import InvalidInput, NotFound
from tldops.lists.models import SenderOverride
from tldops.lists.moderation import check_moderator

CHOICES = tuple(SenderOverride.Dmarc.values)


def all_overrides() -> QuerySet[SenderOverride]:
    return SenderOverride.objects.order_by("address")


def set_override(address: str, dmarc: str, *, note: str = "", actor: Actor) -> SenderOverride:
    """Set ``address``'s DMARC treatment; ``auto`` removes the exception."""
    check_moderator(actor)
    address = clean_email(address).lower()
    note = clean_text(note, field_name="note", what=_("The note"))
    if dmarc not in CHOICES:
        raise InvalidInput(
            _("Choose one of %(choices)s, not “%(value)s”.")
            % {"choices": ", ".join(CHOICES), "value": dmarc},
            field="dmarc",
        )
    with transaction.atomic():
        row = SenderOverride.objects.select_for_update().filter(address=address).first()
        before = {"dmarc": row.dmarc, "note": row.note} if row else {"dmarc": "auto"}
        if dmarc == SenderOverride.Dmarc.AUTO and not (row is not None and row.pinned):
            if row is not None:
                row.delete()
            row = SenderOverride(address=address, dmarc=dmarc, note=note)
        else:
            row = row or SenderOverride(address=address)
            row.dmarc, row.note = dmarc, note
            row.save()
        record(
            actor,
            "sender-override",
            f"DMARC treatment of {address}: {before['dmarc']} → {dmarc}",
            before=before,
            after={"dmarc": dmarc, "note": row.note},
        )
    return row


def get_override(address: str) -> SenderOverride:
    row = SenderOverride.objects.filter(address__iexact=address.strip()).first()
    if row is None:
        raise NotFound(_("No override for %(a)s.") % {"a": address}, field="address")
    return row


def pin_sender(
    address: str, pinned: bool = True, *, note: str = "", actor: Actor
) -> SenderOverride:
    """Pin (or unpin) ``address``: its posts are then not held for being unverifiable.

    For members whose domain publishes no DMARC record and no SPF ``-all`` and signs nothing
    (see :mod:`tldops.mail.senderauth`); a proven forgery of a pinned address is still held.
    """
    check_moderator(actor)
    address = clean_email(address).lower()
    with transaction.atomic():
        row = SenderOverride.objects.select_for_update().filter(address=address).first()
        before = bool(row and row.pinned)
        row = row or SenderOverride(address=address)
        row.pinned = pinned
        if note:
            row.note = note[:300]
        if not pinned and row.dmarc == SenderOverride.Dmarc.AUTO:
            if row.pk:
                row.delete()
        else:
            row.save()
        record(
            actor,
            "sender-override",
            f"{address} {'pinned' if pinned else 'unpinned'}",
            before={"pinned": before},
            after={"pinned": pinned, "note": row.note},
        )
    return row
