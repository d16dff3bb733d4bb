"""Signed, expiring, single-use links for authorisers (no account) and contacts confirming.

The link carries a signature (Django's :mod:`django.core.signing`, keyed by the secret key) over the
row id and a random nonce stored on the row; expiry comes from the row, single use from clearing or
changing the nonce. A link that was forged, altered, used or expired is refused the same clear way.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.directory.models import Invitation, Membership
from tldops.kernel.errors import LinkInvalid, LinkUsed

INVITATION_SALT = "tldops.directory.invitation"
CONFIRMATION_SALT = "tldops.directory.confirmation"


def new_nonce() -> str:
    return secrets.token_hex(16)


def sign(salt: str, key: str, pk: int, nonce: str) -> str:
    """A link token over a row id (under ``key``) and its nonce: every kind of link here and in
    the other apps (reachability checks) is made by this and read by :func:`unsign`."""
    return signing.dumps({key: pk, "n": nonce}, salt=salt, compress=True)


def unsign(
    token: str,
    salt: str,
    key: str,
    invalid: str,
    *,
    max_age: timedelta | None = None,
    expired: str = "",
) -> tuple[int, str]:
    """The (row id, nonce) a token signed by :func:`sign` carries; :class:`LinkInvalid` with the
    message ``invalid`` if it was forged, altered or cut short.

    ``max_age``: a token signed longer ago is refused too (message ``expired``, else ``invalid``).
    The signature's own time is a backstop that costs nothing: each kind of link still checks
    its row (expiry, single use), since a row's life is what decides."""
    try:
        data = signing.loads(token.strip(), salt=salt, max_age=max_age)
        return int(data[key]), str(data["n"])
    except signing.SignatureExpired:
        raise LinkInvalid(expired or invalid) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid(invalid) from None


def invitation_token(invitation: Invitation) -> str:
    return sign(INVITATION_SALT, "i", invitation.pk, invitation.nonce)


def confirmation_token(membership: Membership) -> str:
    return sign(CONFIRMATION_SALT, "m", membership.pk, membership.confirm_nonce)


def invitation_ref(invitation: Invitation) -> str:
    """The short reference put in the invitation's subject, so a reply by mail finds its invitation.

    It carries 48 bits of the nonce: guessing one is hopeless, and the mail door still applies the
    admin-address rule on top.
    """
    return f"{invitation.pk}-{invitation.nonce[:12]}"


REF_PATTERN = r"\[ref:(\d+)-([0-9a-f]{12})\]"


def token_from_ref(ref_pk: int, ref_nonce: str) -> str:
    """The signed token of the invitation a subject reference names (:class:`LinkInvalid` if none)."""
    invitation = Invitation.objects.filter(pk=ref_pk).first()
    if invitation is None or not secrets.compare_digest(invitation.nonce[:12], ref_nonce):
        raise LinkInvalid(_("The reference in the subject does not match any open invitation."))
    return invitation_token(invitation)


def may_remove_contacts(invitation: Invitation) -> bool:
    """What a link is worth: an invitation link only names contacts; replacing or removing them
    needs a management link, which is mailed afresh to the IANA admin address each time it is asked
    for. An invitation may have been sent weeks ago to an address since changed, or forwarded."""
    return invitation.purpose == Invitation.Purpose.MANAGE


def open_invitation(token: str, *, for_update: bool = False) -> Invitation:
    """The invitation a token names, if it is still usable; otherwise :class:`LinkInvalid`."""
    pk, nonce = unsign(
        token, INVITATION_SALT, "i", _("This link is not valid. Check that it was copied whole.")
    )
    qs = Invitation.objects.select_related("tld")
    if for_update:
        qs = qs.select_for_update()
    invitation = qs.filter(pk=pk).first()
    if invitation is None or not secrets.compare_digest(invitation.nonce, nonce):
        raise LinkInvalid(_("This link is not valid."))
    if invitation.status == Invitation.Status.ANSWERED:
        raise LinkUsed(
            _(
                "This link has already been used, and the answer given with it stands. To change "
                "it, ask for a management link at %(url)s."
            )
            % {"url": f"{settings.BASE_URL}/manage/"}
        )
    if invitation.status == Invitation.Status.CANCELLED:
        raise LinkInvalid(_("This link was cancelled by the secretariat."))
    if invitation.status == Invitation.Status.EXPIRED or invitation.expires_at <= timezone.now():
        raise LinkInvalid(_("This link has expired. Ask the secretariat or request a new one."))
    return invitation


def open_confirmation(token: str) -> Membership:
    pk, nonce = unsign(token, CONFIRMATION_SALT, "m", _("This confirmation link is not valid."))
    membership = (
        Membership.objects.select_for_update().select_related("person", "tld").filter(pk=pk).first()
    )
    if (
        membership is None
        or not nonce
        or not secrets.compare_digest(membership.confirm_nonce, nonce)
    ):
        raise LinkInvalid(_("This confirmation link is not valid or has already been used."))
    if membership.status != Membership.Status.PENDING:
        raise LinkInvalid(_("This confirmation link has already been used."))
    ttl = timedelta(days=settings.CONFIRMATION_TTL_DAYS)
    if membership.authorised_at + ttl <= timezone.now():
        raise LinkInvalid(
            _(
                "This confirmation link has expired. Ask your ccTLD's administrative contact to "
                "authorise you again."
            )
        )
    return membership
