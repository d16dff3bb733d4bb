"""Pages anyone may open: the coverage page, and the signed links of authorisers and new contacts.

Nothing here shows anything about a person to someone who does not hold the right signed link.
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from tldops.catalog import services
from tldops.catalog.lookup import resolve_tld
from tldops.directory import actions, links, permissions, queries
from tldops.directory.audit import Actor
from tldops.directory.models import Membership
from tldops.directory.validation import ContactInput
from tldops.kernel.errors import DirectoryError, InvalidInput, LinkInvalid
from tldops.repository.reachability import at_risk_tlds
from tldops.web.forms import PHONE_LABEL_CHOICES, ConfirmForm, ManageForm, add_directory_error
from tldops.web.fragments import cached_fragment, cached_page

PHONES_PER_CONTACT = 3
#: How many contact rows a posted authorisation form may carry; more are ignored as junk.
MAX_POSTED_ROWS = 20


#: Longest filter text the coverage page takes (``?q=``); longer is cut.
COVERAGE_FILTER_MAX = 100


def coverage(request: HttpRequest) -> HttpResponse:
    """The public page: member ccTLDs, ccTLDs not yet subscribed, shares overall/by kind/region.

    Its two tables list every ccTLD (309 rows): the filter box hides rows as one types
    (``web/table-filter.js``) and, without script, submits ``?q=``, which filters them here."""
    q = request.GET.get("q", "").strip()[:COVERAGE_FILTER_MAX]

    def body() -> str:
        cov = queries.coverage()
        regions = [
            (code, cov.region_names.get(code, code.upper()), share)
            for code, share in cov.by_region.items()
        ]
        shown = {
            "members": services.matching(cov.members, q),
            "not_subscribed": services.matching(cov.not_subscribed, q),
        }
        shown["count"] = len(shown["members"]) + len(shown["not_subscribed"])
        return render_to_string(
            "web/partials/coverage_body.html",
            {"coverage": cov, "regions": regions, "q": q, "shown": shown},
        )

    def context() -> dict[str, object]:
        context = {"body": cached_fragment("coverage", (q,), body)}
        if permissions.is_member(request.user):
            # Members only, in a fragment of its own: the public fragment above never contains it.
            context["at_risk"] = cached_fragment("coverage-at-risk", (), _at_risk_section)
        return context

    # The whole page is cached (per language, role and filter), CSRF token and address filled per
    # request.
    return cached_page(request, "web/coverage.html", context, name="coverage", parts=(q,))


def _at_risk_section() -> str:
    """Member ccTLDs with no reachable contact (:mod:`tldops.repository.reachability`)."""
    tlds = at_risk_tlds()
    return render_to_string("web/partials/coverage_at_risk.html", {"tlds": tlds}) if tlds else ""


def link_invalid(request: HttpRequest, exc: LinkInvalid, *, kind: str) -> HttpResponse:
    """The page for an expired, used or forged link (HTTP 410 Gone), saying how to get a new one."""
    return render(
        request, "web/link_invalid.html", {"message": exc.message, "kind": kind}, status=410
    )


# --- Authorisation by the IANA administrative contact ----------------------------------------------


@lru_cache(maxsize=1)
def timezone_names() -> list[str]:
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


def _empty_row(index: int) -> dict:
    return {
        "index": index,
        "name": "",
        "email": "",
        "phones": [{"number": "", "label": "office"} for _i in range(PHONES_PER_CONTACT)],
        "timezone": "",
        "languages": "",
        "errors": {},
    }


def _rows_from_post(post) -> list[dict]:
    rows = []
    for i in range(MAX_POSTED_ROWS):
        prefix = f"contact-{i}-"
        if not any(k.startswith(prefix) for k in post):
            continue
        row = _empty_row(i)
        row["name"] = post.get(prefix + "name", "").strip()
        row["email"] = post.get(prefix + "email", "").strip()
        row["timezone"] = post.get(prefix + "timezone", "").strip()
        row["languages"] = post.get(prefix + "languages", "").strip()
        row["phones"] = [
            {
                "number": post.get(f"{prefix}phone{j}", "").strip(),
                "label": post.get(f"{prefix}label{j}", "office"),
            }
            for j in range(PHONES_PER_CONTACT)
        ]
        rows.append(row)
    return rows


def _is_empty(row: dict) -> bool:
    return not (row["name"] or row["email"] or any(p["number"] for p in row["phones"]))


def _contact_input(row: dict) -> ContactInput:
    return ContactInput(
        name=row["name"],
        email=row["email"],
        phones=[(p["number"], p["label"]) for p in row["phones"]],
        timezone=row["timezone"],
        languages=row["languages"],
    )


def _row_field(field: str | None) -> str:
    """The part of a contact row an error belongs to (phone errors go to the phone block)."""
    return "phones" if field in ("phone", "phones") else (field or "name")


def _place_errors(exc: DirectoryError, named: list[dict]) -> str:
    """Put each of the action's errors next to the field of the contact row it is about, all at
    once; returns the message shown above the form (the errors about no one contact)."""
    general: list[str] = []
    for error in exc.errors:
        if error.index is not None and 0 <= error.index < len(named):
            row_errors = named[error.index]["errors"]
            key = _row_field(error.field)
            row_errors[key] = " ".join(filter(None, [row_errors.get(key), error.message]))
        else:
            general.append(error.message)
    if len(general) < len(exc.errors):
        general.insert(0, _("Some contacts need correcting; see the messages below."))
    return " ".join(general)


def authorise(request: HttpRequest, token: str) -> HttpResponse:
    """The admin contact's signed link: name contacts (and remove some, with a management link)."""
    try:
        invitation = links.open_invitation(token)
    except LinkInvalid as exc:
        return link_invalid(request, exc, kind="authorise")
    tld = invitation.tld
    current = list(
        Membership.objects.filter(tld=tld, status__in=Membership.OPEN)
        .select_related("person")
        .order_by("number")
    )
    is_manage = links.may_remove_contacts(invitation)
    limit = settings.MAX_CONTACTS_PER_CCTLD
    slots = limit if is_manage else max(0, limit - len(current))
    rows = [_empty_row(i) for i in range(slots)]
    error: str | None = None
    removed: list[int] = []
    status = 200
    if request.method == "POST":
        rows = _rows_from_post(request.POST) or rows
        removed = [int(n) for n in request.POST.getlist("remove") if n.isdigit()]
        named = [r for r in rows if not _is_empty(r)]
        try:
            result = actions.authorise_contacts(
                token, [_contact_input(r) for r in named], door="web", remove=removed
            )
        except LinkInvalid as exc:
            return link_invalid(request, exc, kind="authorise")
        except DirectoryError as exc:
            error, status = _place_errors(exc, named), exc.status
        else:
            return render(
                request,
                "web/authorise_done.html",
                {"tld": tld, "added": result.added, "removed": result.removed},
            )
    return render(
        request,
        "web/authorise.html",
        {
            "tld": tld,
            "invitation": invitation,
            "is_manage": is_manage,
            "current": current,
            "rows": rows,
            "removed": removed,
            "limit": limit,
            "error": error,
            "phone_labels": PHONE_LABEL_CHOICES,
            "timezones": timezone_names(),
        },
        status=status,
    )


# --- Confirmation by the named contact -------------------------------------------------------------


def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Double opt-in: the contact confirms the address and, the first time, chooses a password; or
    declines, which ends the pending membership."""
    try:
        with transaction.atomic():
            membership = links.open_confirmation(token)
    except LinkInvalid as exc:
        return link_invalid(request, exc, kind="confirm")
    person = membership.person
    details = actions.details_on_confirmation(membership)
    needs_password = person.user_id is None
    form = ConfirmForm(request.POST or None) if needs_password else None
    status = 200
    if request.method == "POST" and "decline" in request.POST:
        try:
            actions.decline_contact(token, door="web")
        except LinkInvalid as exc:
            return link_invalid(request, exc, kind="confirm")
        return render(request, "web/confirm_declined.html", {"membership": membership})
    if request.method == "POST":
        if form is None or form.is_valid():
            password = form.cleaned_data["password1"] if form is not None else None
            try:
                membership = actions.confirm_contact(token, door="web", password=password)
            except LinkInvalid as exc:
                return link_invalid(request, exc, kind="confirm")
            except DirectoryError as exc:
                if form is None:
                    raise
                if exc.field == "password":
                    form.add_error("password1", exc.message)
                else:
                    add_directory_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Welcome to TLD-OPS: you are now a security contact of %(tld)s.")
                    % {"tld": membership.tld.display},
                )
                user = membership.person.user
                if needs_password:
                    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                    return redirect("web:home")
                if request.user.is_authenticated and request.user.pk == user.pk:
                    return redirect("web:home")
                return redirect("web:login")
        status = 400
    return render(
        request,
        "web/confirm.html",
        {"membership": membership, "person": person, "form": form, "details": details},
        status=status,
    )


# --- "I am the admin contact": ask for a management link -------------------------------------------


def manage(request: HttpRequest) -> HttpResponse:
    """Mail a management link to the ccTLD's IANA admin address. The answer is the same for every
    ccTLD, so asking reveals nothing about its contacts or its admin address."""
    form = ManageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tld = resolve_tld(form.cleaned_data["tld"])
        except InvalidInput as exc:
            add_directory_error(form, exc)
        else:
            try:
                actions.request_manage_link(tld, actor=Actor.authoriser("anonymous", "web"))
            except DirectoryError:
                pass  # e.g. no admin address known: the answer must not differ
            return render(request, "web/manage_sent.html", {"tld": tld})
    status = 400 if request.method == "POST" else 200
    return render(request, "web/manage.html", {"form": form}, status=status)
