"""Who may open which page: the portal's decorators, onto :mod:`tldops.directory.permissions`.

Staff (secretariat, committee) must have proved a TOTP code in this session before any page that
shows member data or changes anything works; :func:`second_factor_missing` is that one check.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from tldops.directory import permissions

View = Callable[..., HttpResponse]


def second_factor_missing(request: HttpRequest) -> bool:
    """True when the signed-in person must use TOTP and this session has not proved a code."""
    person = permissions.person_of(request.user)
    if not permissions.needs_second_factor(person):
        return False
    is_verified = getattr(request.user, "is_verified", None)
    if is_verified is not None:
        return not is_verified()
    # Just signed in within this request: django.contrib.auth.login() replaced the user that
    # OTPMiddleware had wrapped, and django_otp.login() marks it with the device it verified.
    return getattr(request.user, "otp_device", None) is None


def _to_login(request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse('web:login')}?{urlencode({'next': request.get_full_path()})}")


def _to_totp_setup(request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse('web:totp_setup')}?{urlencode({'next': request.get_full_path()})}")


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/forbidden.html", {"message": message}, status=403)


def _guard(
    check: Callable[[HttpRequest], bool], message: Callable[[], str]
) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if not request.user.is_authenticated:
                return _to_login(request)
            if second_factor_missing(request):
                return _to_totp_setup(request)
            if not check(request):
                return forbidden(request, message())
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


#: Any signed-in person (with their second factor if their role needs one).
signed_in_required = _guard(lambda r: True, lambda: "")

#: Active contacts of a ccTLD, and staff.
member_required = _guard(
    lambda r: permissions.is_member(r.user),
    lambda: _("This page is for the members of TLD-OPS: active security contacts of a ccTLD."),
)

#: Secretariat and standing committee, with a TOTP-verified session.
staff_required = _guard(
    lambda r: permissions.is_staff_role(r.user),
    lambda: _("This page is for the secretariat and the standing committee."),
)
