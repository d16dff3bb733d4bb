"""Signing in and out, the second factor, and the signed-in person's own pages."""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from tldops.directory import actions, permissions, second_factor
from tldops.directory import tokens as api_tokens
from tldops.directory.audit import Actor
from tldops.directory.models import ApiToken, Membership
from tldops.kernel.errors import DirectoryError, InvalidInput
from tldops.web import signin
from tldops.web.access import (
    forbidden,
    member_required,
    second_factor_missing,
    signed_in_required,
)
from tldops.web.forms import (
    PHONE_LABEL_CHOICES,
    LoginForm,
    TokenForm,
    TotpForm,
    add_directory_error,
)
from tldops.web.views.public import timezone_names

ISSUER = "TLD-OPS"


def _next_url(request: HttpRequest, default: str = "web:home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def _confirmed_devices(user) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True))


def login_view(request: HttpRequest) -> HttpResponse:
    """Email + password, plus a TOTP code for whoever has a confirmed device.

    A wrong code counts as a failed login for the rate limit (django-axes), so codes cannot be
    guessed faster than passwords; and the message never says which of the three was wrong.
    An address with too many failures is locked (django-axes); an account with too many, from
    anywhere, must wait between tries unless its TOTP code comes with the password
    (:mod:`tldops.web.signin`).
    """
    if request.user.is_authenticated and request.method == "GET":
        if second_factor_missing(request):
            return redirect("web:totp_setup")
        return redirect(_next_url(request))
    form = LoginForm(request.POST or None)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        typed = form.cleaned_data["username"].strip()
        # Accounts are keyed by email; accept it in any case, and rate-limit the canonical name.
        username = (
            get_user_model()
            .objects.filter(username__iexact=typed)
            .values_list("username", flat=True)
            .first()
            or typed
        )
        wait = signin.account_wait(username)
        if wait and not TOTPDevice.objects.filter(user__username=username, confirmed=True).exists():
            # Too early to check a password for this account: nothing is checked or counted.
            form.add_error(None, _account_wait_message(wait))
            return render(
                request,
                "web/login.html",
                {"form": form, "next": _next_url(request)},
                status=429,
            )
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        device = None
        if user is not None:
            devices = _confirmed_devices(user)
            code = form.cleaned_data["otp_token"].strip()
            if devices:
                device = next(
                    (d for d in devices if code and verify_token(user, d.persistent_id, code)),
                    None,
                )
                if device is None:
                    user_login_failed.send(
                        sender=__name__, credentials={"username": username}, request=request
                    )
                    user = None
        if user is None and wait:
            form.add_error(None, _account_wait_message(wait))
            status = 429
        elif user is None:
            form.add_error(
                None,
                _(
                    "Wrong email address, password or authentication code. If you use two-factor "
                    "authentication, type the code your app shows now."
                ),
            )
        else:
            signin.forgive(request, username)
            previous_login = user.last_login
            auth_login(request, user)
            if device is not None:
                otp_login(request, device)
            if second_factor_missing(request) or (
                device is None
                and second_factor.reset_since(permissions.person_of(user), previous_login)
            ):
                # Staff must set up a device; a member whose factor was reset is asked to.
                return redirect(
                    f"{reverse('web:totp_setup')}?{urlencode({'next': _next_url(request)})}"
                )
            return redirect(_next_url(request))
    return render(
        request, "web/login.html", {"form": form, "next": _next_url(request)}, status=status
    )


def _account_wait_message(seconds: int) -> str:
    return ngettext(
        "Too many failed sign-ins to this account: wait %(n)d second, then try again. With "
        "two-factor authentication, the right password and code let you in without waiting.",
        "Too many failed sign-ins to this account: wait %(n)d seconds, then try again. With "
        "two-factor authentication, the right password and code let you in without waiting.",
        seconds,
    ) % {"n": seconds}


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.info(request, _("You are signed out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _otpauth_url(device: TOTPDevice) -> str:
    """The otpauth:// URL an authenticator app reads from the QR code, with TLD-OPS as issuer."""
    label = quote(f"{ISSUER}:{device.user.get_username()}")
    params = urlencode(
        {
            "secret": b32encode(device.bin_key).decode(),
            "issuer": ISSUER,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{params}"


def _throttled_message() -> str:
    return _("Too many wrong codes in a row: wait a few seconds, then type the newest code.")


def totp_setup(request: HttpRequest) -> HttpResponse:
    """Set up (or prove, for this session) the TOTP second factor.

    Staff are sent here after their password until they have confirmed a device; members may come
    here to turn it on. Nothing else works for staff until a code has been accepted.
    """
    if not request.user.is_authenticated:
        return redirect(f"{reverse('web:login')}?{urlencode({'next': request.get_full_path()})}")
    user = request.user
    person = permissions.person_of(user)
    required = permissions.needs_second_factor(person)
    confirmed = _confirmed_devices(user)
    form = TotpForm(request.POST or None)
    context: dict[str, object] = {"form": form, "required": required, "next": _next_url(request)}

    if confirmed:
        if user.is_verified():
            if (
                request.method == "POST"
                and request.POST.get("action") == "disable"
                and not required
            ):
                TOTPDevice.objects.filter(user=user).delete()
                messages.success(request, _("Two-factor authentication is turned off."))
                return redirect("web:totp_setup")
            return render(request, "web/totp_setup.html", {**context, "state": "enabled"})
        if request.method == "POST" and form.is_valid():
            code = form.cleaned_data["otp_token"].strip()
            if not any(d.verify_is_allowed()[0] for d in confirmed):
                form.add_error("otp_token", _throttled_message())
            elif device := next(
                (d for d in confirmed if verify_token(user, d.persistent_id, code)), None
            ):
                otp_login(request, device)
                return redirect(_next_url(request))
            else:
                form.add_error(
                    "otp_token", _("This code is not valid. Type the code your app shows now.")
                )
        status = 400 if request.method == "POST" else 200
        return render(request, "web/totp_setup.html", {**context, "state": "verify"}, status=status)

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=ISSUER, confirmed=False)
    if request.method == "POST" and form.is_valid():
        if not device.verify_is_allowed()[0]:
            form.add_error("otp_token", _throttled_message())
        elif device.verify_token(form.cleaned_data["otp_token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(
                request,
                _(
                    "Two-factor authentication is on. From now on, sign in with a code from your app."
                ),
            )
            return redirect(_next_url(request))
        else:
            form.add_error(
                "otp_token",
                _(
                    "This code is not valid. Check that your device's clock is right and type the code "
                    "your app shows now."
                ),
            )
    url = _otpauth_url(device)
    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        "web/totp_setup.html",
        {
            **context,
            "state": "setup",
            "qr_svg": segno.make(url, error="m").svg_inline(
                scale=4, dark="#000", light="#fff", title=_("QR code for your authenticator app")
            ),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        },
        status=400 if request.method == "POST" else 200,
    )


@signed_in_required
def home(request: HttpRequest) -> HttpResponse:
    person = permissions.person_of(request.user)
    memberships = (
        list(
            person.memberships.filter(status__in=Membership.OPEN)
            .select_related("tld")
            .order_by("tld__alabel")
        )
        if person
        else []
    )
    return render(
        request,
        "web/home.html",
        {
            "person": person,
            "memberships": memberships,
            "is_committee": permissions.is_committee(request.user),
            "has_totp": bool(_confirmed_devices(request.user)),
        },
    )


# --- The member's own details ----------------------------------------------------------------------

PROFILE_PHONES = 3


def _person_or_403(request: HttpRequest):
    person = permissions.person_of(request.user)
    if person is None:
        return None, forbidden(request, _("Your account has no directory entry."))
    return person, None


@signed_in_required
def profile(request: HttpRequest) -> HttpResponse:
    """A member edits their own name (and which part of it is their family name), phone numbers,
    time zone and languages."""
    person, denied = _person_or_403(request)
    if denied:
        return denied
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        phones = [
            (
                request.POST.get(f"phone{j}", "").strip(),
                request.POST.get(f"label{j}", "office"),
            )
            for j in range(PROFILE_PHONES)
        ]
        change = actions.ProfileChange(
            name=request.POST.get("name", ""),
            family_name=request.POST.get("family_name", ""),
            phones=phones,
            timezone=request.POST.get("timezone", ""),
            languages=request.POST.get("languages", ""),
        )
        try:
            actions.update_profile(person, change, actor=Actor.of(person, "web"))
        except DirectoryError as exc:
            for error in exc.errors:  # every field's problem at once
                field = "phones" if error.field in ("phone", "phones") else error.field
                if field not in ("name", "family_name", "phones", "timezone", "languages"):
                    field = "general"
                errors[field] = " ".join(filter(None, [errors.get(field), error.message]))
            status = exc.status
            values = {
                "name": change.name,
                "family_name": change.family_name,
                "timezone": change.timezone,
                "languages": change.languages,
                "phones": [{"number": n, "label": lbl} for n, lbl in phones],
            }
        else:
            messages.success(request, _("Your details are saved."))
            return redirect("web:profile")
    if status == 200:
        existing = [
            {"number": p.number, "label": p.label} for p in person.phones.order_by("position")
        ]
        values = {
            "name": person.name,
            "family_name": person.family_name,
            "timezone": person.timezone,
            "languages": ", ".join(person.languages),
            "phones": (existing + [{"number": "", "label": "office"}] * PROFILE_PHONES)[
                : max(PROFILE_PHONES, len(existing))
            ],
        }
    return render(
        request,
        "web/profile.html",
        {
            "person": person,
            "values": values,
            "errors": errors,
            "phone_labels": PHONE_LABEL_CHOICES,
            "timezones": timezone_names(),
        },
        status=status,
    )


@signed_in_required
def leave(request: HttpRequest) -> HttpResponse:
    """Leave one ccTLD's contacts, or all of them, after an explicit confirmation."""
    person, denied = _person_or_403(request)
    if denied:
        return denied
    memberships = list(
        person.memberships.filter(status__in=Membership.OPEN)
        .select_related("tld")
        .order_by("tld__alabel")
    )
    error = None
    status = 200
    if request.method == "POST":
        choice = request.POST.get("tld", "")
        by_alabel = {m.tld.alabel: m.tld for m in memberships}
        if not request.POST.get("confirm"):
            error, status = _("Tick the box to confirm that you want to leave."), 400
        elif choice != "all" and choice not in by_alabel:
            error, status = _("Choose the ccTLD to leave, or all of them."), 400
        else:
            try:
                ended = actions.leave(
                    person,
                    actor=Actor.of(person, "web"),
                    tld=None if choice == "all" else by_alabel[choice],
                )
            except DirectoryError as exc:
                error, status = exc.message, exc.status
            else:
                messages.success(
                    request,
                    _("You are no longer a contact of %(tlds)s.")
                    % {"tlds": ", ".join(m.tld.display for m in ended)},
                )
                return redirect("web:home")
    return render(
        request,
        "web/leave.html",
        {"memberships": memberships, "error": error},
        status=status,
    )


@member_required
def tokens(request: HttpRequest) -> HttpResponse:
    """Personal API tokens: create (the plaintext is shown this once), list, revoke."""
    person, denied = _person_or_403(request)
    if denied:
        return denied
    actor = Actor.of(person, "web")
    form = TokenForm()
    plaintext = None
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            token_id = request.POST.get("token_id", "")
            try:
                if not token_id.isdigit():
                    raise InvalidInput(_("No such active token."))
                revoked = api_tokens.revoke_token(person, int(token_id), actor=actor)
            except DirectoryError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Token “%(name)s” revoked.") % {"name": revoked.name})
            return redirect("web:tokens")
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                _token, plaintext = api_tokens.create_token(
                    person,
                    form.cleaned_data["name"],
                    actor=actor,
                    second_factor_proved=request.user.is_verified(),
                )
            except DirectoryError as exc:
                add_directory_error(form, exc)
                status = exc.status
            else:
                form = TokenForm()
        else:
            status = 400
    return render(
        request,
        "web/tokens.html",
        {
            "form": form,
            "plaintext": plaintext,
            "tokens": ApiToken.objects.filter(person=person).order_by("-created_at"),
        },
        status=status,
    )
