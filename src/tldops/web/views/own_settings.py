"""The signed-in person's own settings: how they receive mail, and changing their address (issue 9).

Thin doors: :mod:`tldops.directory.delivery` and :mod:`tldops.directory.email_change` check,
change, audit and mail; these pages parse the form and show the result or the error by its field.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tldops.directory import delivery, email_change, permissions
from tldops.directory.audit import Actor
from tldops.directory.models import DeliveryMode, DigestFormat
from tldops.kernel.errors import DirectoryError, LinkInvalid
from tldops.web.access import forbidden, signed_in_required

FIELDS = ("mode", "digest_format", "nomail_until", "receive_list", "receive_editions", "email")


def _field(exc: DirectoryError) -> str:
    return exc.field if exc.field in FIELDS else "general"


@signed_in_required
def delivery_settings(request: HttpRequest) -> HttpResponse:
    """How the list's posts reach me (each, daily digest, none until a date); staff also choose
    whether they receive the list and the repository editions at all."""
    person = permissions.person_of(request.user)
    if person is None:
        return forbidden(request, _("Your account has no directory entry."))
    errors: dict[str, str] = {}
    status = 200
    is_member = person.memberships.filter(status="active").exists()
    staff_choice = person.role in delivery.STAFF_ROLES
    if request.method == "POST":
        mode = request.POST.get("mode", "")
        change = delivery.DeliveryChange(
            mode=mode,
            digest_format=request.POST.get("digest_format") or None,
            nomail_until=request.POST.get("nomail_until", "")
            if mode == DeliveryMode.NOMAIL
            else None,
        )
        if staff_choice:
            change.receive_list = bool(request.POST.get("receive_list"))
            change.receive_editions = bool(request.POST.get("receive_editions"))
        try:
            delivery.update_delivery(person, change, actor=Actor.of(person, "web"))
        except DirectoryError as exc:
            errors[_field(exc)] = exc.message
            status = exc.status
        else:
            messages.success(request, _("Your delivery choices are saved."))
            return redirect("web:delivery")
        values = {
            "mode": mode,
            "digest_format": change.digest_format or person.digest_format,
            "nomail_until": request.POST.get("nomail_until", "")[:40],
            "receive_list": bool(change.receive_list),
            "receive_editions": bool(change.receive_editions),
        }
    else:
        values = {
            "mode": person.delivery_mode,
            "digest_format": person.digest_format,
            "nomail_until": person.nomail_until.isoformat() if person.nomail_until else "",
            "receive_list": person.receive_list,
            "receive_editions": person.receive_editions,
        }
    today = delivery.today_utc()
    return render(
        request,
        "web/delivery.html",
        {
            "person": person,
            "values": values,
            "errors": errors,
            "modes": DeliveryMode.choices,
            "formats": DigestFormat.choices,
            "staff_choice": staff_choice,
            "is_member": is_member,
            "now": delivery.describe(person),
            "digest_time": settings.DIGEST_TIME,
            "today": today.isoformat(),
            "last_day": (today + dt.timedelta(days=delivery.nomail_max_days())).isoformat(),
            "max_days": delivery.nomail_max_days(),
        },
        status=status,
    )


@signed_in_required
def email_settings(request: HttpRequest) -> HttpResponse:
    """Ask to change my address: a link goes to the new one; nothing changes until it is used."""
    person = permissions.person_of(request.user)
    if person is None:
        return forbidden(request, _("Your account has no directory entry."))
    errors: dict[str, str] = {}
    status = 200
    typed = ""
    if request.method == "POST":
        typed = request.POST.get("email", "")[:300]
        try:
            email_change.request_change(person, typed, actor=Actor.of(person, "web"))
        except DirectoryError as exc:
            errors[_field(exc)] = exc.message
            status = exc.status
        else:
            messages.success(
                request,
                _("A link is on its way to %(a)s: open it to confirm the change.")
                % {"a": typed.strip()},
            )
            return redirect("web:email")
    return render(
        request,
        "web/email_change.html",
        {
            "person": person,
            "typed": typed,
            "errors": errors,
            "ttl": settings.EMAIL_CHANGE_TTL_HOURS,
        },
        status=status,
    )


@signed_in_required
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the mail to the new address: a page to confirm (a POST, so that a mail
    scanner opening the link changes nothing), then the change."""
    person = permissions.person_of(request.user)
    if person is None:
        return forbidden(request, _("Your account has no directory entry."))
    try:
        target = email_change.pending(token)
        if target.pk != person.pk:
            return forbidden(
                request,
                _(
                    "This link confirms another person's new address. Sign in as that person "
                    "to use it."
                ),
            )
        if request.method == "POST":
            changed = email_change.confirm_change(token, actor=Actor.of(person, "web"))
            messages.success(request, _("Your address is now %(a)s.") % {"a": changed.email})
            return redirect("web:profile")
    except LinkInvalid as exc:
        return render(
            request, "web/link_invalid.html", {"message": exc.message, "kind": "email"}, status=410
        )
    except DirectoryError as exc:
        return render(
            request,
            "web/email_confirm.html",
            {"person": person, "new_email": person.email_change_to, "error": exc.message},
            status=exc.status,
        )
    return render(
        request, "web/email_confirm.html", {"person": person, "new_email": target.email_change_to}
    )
