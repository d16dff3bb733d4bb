"""Who is calling the API, and what their role lets them do.

Two ways in, tried in this order:

* a personal token, ``Authorization: Bearer tldops_…`` (:mod:`tldops.directory.tokens`). A token
  that is unknown or revoked is refused at once (401), even if a session cookie is present too.
  A token can only be created from a logged-in session, and carries the role it was created under
  (``ApiToken.scope``): staff powers only when that session had passed the second factor, and never
  more than the person's role now (:func:`tldops.directory.permissions.role_of`). A token made by
  a member does not gain staff powers when its owner is promoted.
* the portal's Django session. Unsafe methods need the CSRF token (header ``X-CSRFToken``), as
  everywhere in Django; staff sessions must be OTP-verified when the second factor is required.

Both give the same principal, a :class:`~tldops.directory.models.Person`, in ``request.auth``. Role
checks go through :mod:`tldops.directory.permissions`, the one place that reads roles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth
from ninja.utils import check_csrf

from tldops.directory import permissions, tokens
from tldops.directory.audit import Actor
from tldops.directory.models import Person
from tldops.kernel.errors import NotAuthorised


class Unauthenticated(Exception):
    """The request carries a credential that is not good enough; answered with 401."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CsrfFailed(Exception):
    """A session-authenticated unsafe request without a valid CSRF token; answered with 403."""


class BearerToken(HttpBearer):
    """``Authorization: Bearer tldops_…`` personal tokens."""

    def authenticate(self, request: HttpRequest, token: str) -> Person | None:
        person = tokens.person_for_token(token.strip())
        if person is None:
            raise Unauthenticated(
                _(
                    "This API token is not valid or has been revoked. Create a new one in the portal."
                )
            )
        request.auth_method = "token"  # type: ignore[attr-defined]
        return person


class PortalSession(SessionAuth):
    """The portal's login session, with CSRF on unsafe methods and the staff second factor."""

    def __call__(self, request: HttpRequest) -> Person | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        person = permissions.person_of(user)
        if person is None:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False):
            if check_csrf(request) is not None:
                raise CsrfFailed()
        if permissions.needs_second_factor(person) and not _is_verified(user):
            raise Unauthenticated(
                _(
                    "Secretariat and committee sessions must complete the second-factor (TOTP) "
                    "step of the login before using the API."
                )
            )
        request.auth_method = "session"  # type: ignore[attr-defined]
        return person

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:  # pragma: no cover
        raise NotImplementedError  # __call__ does the work


def _is_verified(user: Any) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def second_factor_proved(request: HttpRequest) -> bool:
    """The portal session behind this request proved a TOTP code (False with a token)."""
    return getattr(request, "auth_method", "") == "session" and _is_verified(request.user)


#: The authentication every non-public endpoint uses.
AUTH = [BearerToken(), PortalSession()]


# --- Role checks, called first thing in an endpoint (403 with a clear message) ---------------------


def caller(request: HttpRequest) -> Person:
    """The authenticated person."""
    return request.auth  # type: ignore[attr-defined,no-any-return]


def actor(request: HttpRequest) -> Actor:
    return Actor.of(caller(request), "api")


def _require(check: Callable[[Any], bool], message: Any) -> Callable[[HttpRequest], Person]:
    def require(request: HttpRequest) -> Person:
        person = caller(request)
        if not check(person.user):
            raise NotAuthorised(str(message))
        return person

    return require


require_member = _require(
    permissions.is_member,
    gettext_lazy("Only active members, the secretariat and the standing committee may use this."),
)
require_staff = _require(
    permissions.is_staff_role,
    gettext_lazy("Only the secretariat and the standing committee may do this."),
)
require_committee = _require(
    permissions.is_committee, gettext_lazy("Only the standing committee may do this.")
)
