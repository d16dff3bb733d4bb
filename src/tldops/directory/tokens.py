"""Personal API tokens: created and revoked by their owner, checked on every API request.

Only a SHA-256 digest is stored; the plaintext is returned once, at creation. The making and
hashing of a secret (:func:`new_secret`, :func:`digest`, :func:`digest_matches`) are shared with
the other bearer secrets of tldops (the monitor's probe tokens), so there is one way to do it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.directory.audit import Actor, record
from tldops.directory.models import ApiToken, Person, Role
from tldops.directory.permissions import needs_second_factor
from tldops.kernel.errors import InvalidInput, NotFound

TOKEN_PREFIX = "tldops_"


def new_secret(prefix: str) -> str:
    """A new bearer secret: ``prefix`` (says what it is for, and lets a leaked one be recognised
    by secret scanners) and 256 random bits, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What is stored of a secret: its SHA-256, hex. The secrets are 256 random bits, so a fast
    hash is enough (no password stretching needed), and a look-up by digest is one index probe."""
    return hashlib.sha256(token.encode()).hexdigest()


def digest_matches(token: str, stored: str) -> bool:
    """Whether ``token`` hashes to ``stored``, compared in constant time."""
    return bool(stored) and hmac.compare_digest(digest(token), stored)


_digest = digest


def token_scope(person: Person, *, second_factor_proved: bool) -> str:
    """The role a token created now carries: the person's role, but staff powers only when the
    session creating it proved a TOTP code (or staff need none, ``TLDOPS_REQUIRE_2FA_FOR_STAFF``):
    a token must not be a way around the second factor."""
    if person.role == Role.MEMBER or second_factor_proved or not needs_second_factor(person):
        return person.role
    return Role.MEMBER


def create_token(
    person: Person, name: str, *, actor: Actor, second_factor_proved: bool
) -> tuple[ApiToken, str]:
    """A new token for ``person``; returns the row and the plaintext (shown once).

    ``second_factor_proved``: the session asking has proved a TOTP code; the token carries the
    person's staff role only then (:func:`token_scope`).
    """
    label = (name or "").strip()
    if not label or len(label) > 100:
        raise InvalidInput(_("Give the token a name of 1 to 100 characters."), field="name")
    plaintext = new_secret(TOKEN_PREFIX)
    with transaction.atomic():
        token = ApiToken.objects.create(
            person=person,
            name=label,
            scope=token_scope(person, second_factor_proved=second_factor_proved),
            prefix=plaintext[: len(TOKEN_PREFIX) + 4],
            digest=_digest(plaintext),
        )
        record(actor, "api-token-created", f"API token “{label}” created", person=person)
    return token, plaintext


def revoke_token(person: Person, token_id: int, *, actor: Actor) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.filter(pk=token_id, person=person, revoked_at=None).first()
        if token is None:
            raise NotFound(_("No such active token."))
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor, "api-token-revoked", f"API token “{token.name}” revoked", person=person)
    return token


def person_for_token(plaintext: str) -> Person | None:
    """The owner of a valid, unrevoked token, or ``None``. Records when it was last used.

    The person comes with the token's scope (``api_token_scope``), which caps the role that
    :mod:`tldops.directory.permissions` grants for this request.
    """
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("person", "person__user")
        .filter(digest=_digest(plaintext), revoked_at=None)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    person = token.person
    person.api_token_scope = token.scope
    return person
