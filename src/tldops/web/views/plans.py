"""A ccTLD's own DR/BCP plan in the portal: the plan (HTML, in a language of choice), its editor,
the version history, the sign-off form and the PDFs.

A thin door onto :mod:`tldops.playbooks.plans`, which answers NotFound to everyone but the
ccTLD's active contacts (staff included): every view turns that into the portal's 404, whether
the ccTLD has a plan or not. The editor works without JavaScript: each part is a table of rows
with a "remove" box, and "More rows" sends the form back with blank rows added (nothing saved).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_POST

from tldops.catalog.lookup import resolve_tld
from tldops.catalog.models import Tld
from tldops.directory import permissions
from tldops.directory.audit import Actor
from tldops.directory.models import Person
from tldops.kernel.errors import DirectoryError, InvalidInput, NotFound
from tldops.playbooks import access, catalogs, plans
from tldops.web.access import signed_in_required

private = cache_control(private=True, no_store=True)
#: Blank rows the editor shows under each part, and adds with "More rows".
BLANK_ROWS = 2
MORE_ROWS = 3


def _person(request: HttpRequest) -> Person | None:
    return permissions.person_of(request.user)


def _tld(alabel: str) -> Tld:
    try:
        return resolve_tld(alabel[:64])
    except DirectoryError:
        raise Http404(_("No such plan.")) from None


def _guarded(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except NotFound:
        raise Http404(_("No such plan.")) from None


@signed_in_required
@private
def plan_index(request: HttpRequest) -> HttpResponse:
    """ "My ccTLD's plan": straight to it for a contact of one ccTLD, a choice for several."""
    own = list(access.own_tlds(_person(request)))
    if len(own) == 1:
        return redirect("web:plan", alabel=own[0].alabel)
    return render(request, "web/plans/index.html", {"tlds": own})


def _language(request: HttpRequest, default: str) -> str:
    wanted = request.GET.get("language", "")[:8]
    return wanted if wanted in catalogs.LANGUAGES else default


@signed_in_required
@private
def plan_view(request: HttpRequest, alabel: str) -> HttpResponse:
    tld = _tld(alabel)
    person = _person(request)
    plan, values = _guarded(lambda: plans.current_values(person, tld))
    language = _language(request, plan.language if plan else "en")
    src = plans.source(plan, tld, values, language)
    return _view_page(request, tld, plan, src, {})


def _view_page(
    request: HttpRequest,
    tld: Tld,
    plan: Any,
    src: plans.Source,
    errors: dict[str, str],
    form: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    person = _person(request)
    history = plans.versions(person, tld)
    return render(
        request,
        "web/plans/view.html",
        {
            "tld": tld,
            "plan": plan,
            "blocks": plans.blocks(src),
            "language": src.language,
            "rtl": src.language in catalogs.RTL,
            "plan_languages": catalogs.LANGUAGES.items(),
            "versions": history,
            "last_signoff": plans.last_signoff(plan) if plan else None,
            "errors": errors,
            "form": form or {"signed_on": timezone.localdate().isoformat()},
        },
        status=status,
    )


@signed_in_required
@private
@require_POST
def plan_signoff(request: HttpRequest, alabel: str) -> HttpResponse:
    tld = _tld(alabel)
    person = _person(request)
    plan, values = _guarded(lambda: plans.current_values(person, tld))
    form = {k: request.POST.get(k, "")[:1000] for k in ("name", "role", "signed_on", "version")}
    number = None
    if form["version"].strip():
        try:
            number = int(form["version"][:9])
        except ValueError:
            number = -1
    try:
        plans.sign_off(
            person,
            tld,
            name=form["name"],
            role=form["role"],
            signed_on=form["signed_on"],
            version_number=number,
            actor=Actor.of(person, "web"),
        )
    except InvalidInput as exc:
        errors = {e.field or "name": e.message for e in exc.errors}
        src = plans.source(plan, tld, values)
        return _view_page(request, tld, plan, src, errors, form, status=400)
    messages.success(request, _("The sign-off is recorded."))
    return redirect(reverse("web:plan", args=[tld.alabel]) + "#versions")


# --- The editor ---------------------------------------------------------------------------------


def _rows_from_post(request: HttpRequest, part: plans.Part) -> list[dict[str, str]]:
    """The rows of ``part`` as the form sent them, those marked "remove" left out; at most as
    many as the part allows plus the blank ones a form can hold."""
    try:
        count = int(request.POST.get(f"{part.key}-rows", "0")[:4])
    except ValueError:
        count = 0
    count = max(0, min(count, part.max_rows + MORE_ROWS + BLANK_ROWS))
    rows = []
    for n in range(count):
        if request.POST.get(f"{part.key}-{n}-remove"):
            continue
        row = {
            c.key: request.POST.get(f"{part.key}-{n}-{c.key}", "")[: 4 * c.max_length + 1]
            for c in part.columns
        }
        if not _is_blank(row):  # kept out here, so an error's row index is the row shown
            rows.append(row)
    return rows


def _values_from_post(request: HttpRequest) -> dict[str, Any]:
    values: dict[str, Any] = {
        c.key: request.POST.get(c.key, "")[: 4 * c.max_length + 1] for c in plans.SCALARS
    }
    for part in plans.PARTS:
        values[part.key] = _rows_from_post(request, part)
    return values


def _is_blank(row: dict[str, str]) -> bool:
    return not any(str(v).strip() for v in row.values())


def _editor(
    request: HttpRequest,
    tld: Tld,
    plan: Any,
    values: dict[str, Any],
    language: str,
    *,
    base_version: int,
    errors: list[DirectoryError] = (),  # type: ignore[assignment]
    more: str = "",
    status: int = 200,
) -> HttpResponse:
    """The editor; ``base_version`` the version it was first opened on, sent back with every
    post (also across "More rows" and refused saves) so that a save made from an older version
    than the plan's is refused instead of undoing someone else's changes."""
    found = plans.prefill(tld)
    by_field = {(e.field, e.index): e.message for e in errors}
    scalars = [
        {
            "key": c.key,
            "label": c.label,
            "kind": c.kind,
            "value": values.get(c.key, ""),
            "max": c.max_length,
            "error": by_field.get((c.key, None), ""),
        }
        for c in plans.SCALARS
    ]
    roles = plans.role_labels()
    site_roles = plans.site_role_labels()
    parts = []
    for part in plans.PARTS:
        rows = [r for r in values.get(part.key, []) if not _is_blank(r)]
        blanks = BLANK_ROWS + (MORE_ROWS if more == part.key else 0)
        room = max(0, part.max_rows - len(rows))
        rows += [{} for _n in range(min(blanks, room))]
        shaped = []
        for n, row in enumerate(rows):
            cells = []
            for c in part.columns:
                choices: list[tuple[str, str]] = []
                if c.kind == "role":
                    choices = list(roles.items())
                elif c.kind == "site_role":
                    choices = list(site_roles.items())
                cells.append(
                    {
                        "name": f"{part.key}-{n}-{c.key}",
                        "label": c.label,
                        "kind": c.kind,
                        "value": row.get(c.key, ""),
                        "max": c.max_length,
                        "choices": choices,
                        "error": by_field.get((f"{part.key}.{c.key}", n), ""),
                    }
                )
            shaped.append({"n": n, "cells": cells, "error": by_field.get((part.key, n), "")})
        parts.append(
            {
                "key": part.key,
                "label": part.label,
                "columns": part.columns,
                "rows": shaped,
                "count": len(shaped),
                "full": len(shaped) >= part.max_rows,
                "max": part.max_rows,
                "error": by_field.get((part.key, None), ""),
            }
        )
    general = [
        e.message
        for e in errors
        if e.field in ("values", "language", "base_version") and e.index is None
    ]
    return render(
        request,
        "web/plans/edit.html",
        {
            "tld": tld,
            "plan": plan,
            "scalars": scalars,
            "parts": parts,
            "language": language,
            "plan_languages": catalogs.LANGUAGES.items(),
            "candidates": found.candidates,
            "general_errors": general,
            "has_errors": bool(errors),
            "base_version": base_version,
        },
        status=status,
    )


@signed_in_required
@private
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, alabel: str) -> HttpResponse:
    tld = _tld(alabel)
    person = _person(request)
    plan, values = _guarded(lambda: plans.current_values(person, tld))
    if request.method == "GET":
        language = plan.language if plan else "en"
        return _editor(
            request, tld, plan, values, language, base_version=plan.version if plan else 0
        )
    posted = _values_from_post(request)
    language = request.POST.get("language", "en")[:8]
    action = request.POST.get("action", "save")[:40]
    try:
        base = int(request.POST.get("base_version", "")[:9])
    except ValueError:
        base = -1  # no version is -1: the save is refused as made from another version
    if action.startswith("more:"):
        return _editor(request, tld, plan, posted, language, base_version=base, more=action[5:])
    try:
        saved = plans.save(
            person, tld, posted, language=language, base_version=base, actor=Actor.of(person, "web")
        )
    except InvalidInput as exc:
        return _editor(
            request, tld, plan, posted, language, base_version=base, errors=exc.errors,
            status=exc.status,
        )  # fmt: skip
    messages.success(request, _("The plan is saved as version %(n)d.") % {"n": saved.number})
    return redirect("web:plan", alabel=tld.alabel)


# --- PDFs ---------------------------------------------------------------------------------------


def _pdf(src: plans.Source) -> HttpResponse:
    response = HttpResponse(plans.pdf(src), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{plans.pdf_filename(src)}"'
    return response


@signed_in_required
@private
def plan_pdf(request: HttpRequest, alabel: str) -> HttpResponse:
    tld = _tld(alabel)
    plan, values = _guarded(lambda: plans.current_values(_person(request), tld))
    language = _language(request, plan.language if plan else "en")
    return _pdf(plans.source(plan, tld, values, language))


@signed_in_required
@private
def plan_version_pdf(request: HttpRequest, alabel: str, number: int) -> HttpResponse:
    tld = _tld(alabel)
    saved = _guarded(lambda: plans.version(_person(request), tld, number))
    return _pdf(plans.version_source(saved))
