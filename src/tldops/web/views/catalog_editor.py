"""The staff's catalog editor: a ccTLD's manager and IANA contacts set by hand, and a CSV import
of admin contacts (a preview, then a confirmation). Both call :mod:`tldops.catalog.editing`,
which decides who may (:func:`~tldops.catalog.editing.may_edit`) and writes the audit entries."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tldops.catalog import editing, services
from tldops.directory import permissions
from tldops.directory.audit import Actor
from tldops.kernel.errors import DirectoryError, NotFound
from tldops.web.access import forbidden, member_required
from tldops.web.catalog_forms import AdminImportForm, TldContactsForm
from tldops.web.forms import add_directory_error


def catalog_editor(request: HttpRequest) -> Actor | None:
    """The signed-in person as an actor, when :func:`editing.may_edit` lets them edit."""
    person = permissions.person_of(request.user)
    actor = Actor.of(person, "web") if person is not None else None
    return actor if actor is not None and editing.may_edit(actor) else None


def _refused(request: HttpRequest) -> HttpResponse:
    return forbidden(
        request, _("Only the secretariat and the standing committee may edit the ccTLD catalog.")
    )


@member_required
def tld_edit(request: HttpRequest, alabel: str) -> HttpResponse:
    """Set a ccTLD's manager and IANA contacts by hand, or give the hand-set ones back to IANA."""
    actor = catalog_editor(request)
    if actor is None:
        return _refused(request)
    try:
        tld = services.tld_detail(alabel)
    except NotFound:
        raise Http404(_("No such ccTLD.")) from None
    initial = {name: getattr(tld, name) for name in editing.EDITABLE}
    form = TldContactsForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and request.POST.get("action") == "from_iana":
        released, _changes = editing.accept_iana(tld, actor=actor)
        if released:
            messages.success(
                request, _("These fields follow IANA again: %(f)s.") % {"f": ", ".join(released)}
            )
        else:
            messages.info(request, _("No field was set by hand."))
        return redirect("web:tld", alabel=tld.alabel)
    if request.method == "POST":
        if form.is_valid():
            try:
                changes = editing.set_contacts(tld, form.cleaned_data, actor=actor)
            except DirectoryError as exc:
                add_directory_error(form, exc)
            else:
                if changes:
                    messages.success(
                        request,
                        _("Saved: %(f)s. A later catalog sync keeps these values.")
                        % {"f": ", ".join(editing.field_label(c.field) for c in changes)},
                    )
                else:
                    messages.info(request, _("Nothing changed."))
                return redirect("web:tld", alabel=tld.alabel)
        status = 400
    return render(
        request,
        "web/tld_edit.html",
        {
            "tld": tld,
            "form": form,
            "marks": [p for p in editing.provenance(tld) if p.source != "iana"],
        },
        status=status,
    )


@member_required
def catalog_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV of admin contacts: the first POST shows what would change (nothing written);
    the confirmation posts the same text back with the preview's digest and writes it, unless the
    catalog changed in between (then a new preview is shown)."""
    actor = catalog_editor(request)
    if actor is None:
        return _refused(request)
    form = AdminImportForm()
    context: dict[str, object] = {"form": form, "max_kb": editing.CSV_MAX_BYTES // 1024}
    status = 200
    if request.method == "POST":
        text: str | None = None
        if request.POST.get("action") == "apply":
            text = request.POST.get("csv", "")
        else:
            form = AdminImportForm(request.POST, request.FILES)
            context["form"] = form
            if form.is_valid():
                upload = form.cleaned_data["file"]
                data = upload.read(editing.CSV_MAX_BYTES + 1)
                try:
                    text = editing.decode_csv(data)
                except editing.ImportRefused as exc:
                    context["errors"] = exc.row_errors
                    status = 400
            else:
                status = 400
        if text is not None:
            try:
                if request.POST.get("action") == "apply":
                    plan = editing.apply_import(
                        text, actor=actor, expected=request.POST.get("digest", "")[:64]
                    )
                    messages.success(
                        request,
                        _("Imported: %(n)d ccTLDs changed, %(same)d unchanged.")
                        % {"n": len(plan.changed), "same": len(plan.unchanged)},
                    )
                    return redirect("web:catalog_import")
                plan = editing.plan_import(text, actor=actor)
            except editing.ImportRefused as exc:
                context["errors"] = exc.row_errors
                status = 400
            except DirectoryError as exc:  # the catalog changed since the preview
                messages.error(request, exc.message)
                plan = editing.plan_import(text, actor=actor)
                context.update(plan=plan, csv=text)
                status = 409
            else:
                context.update(plan=plan, csv=text)
    return render(request, "web/catalog_import.html", context, status=status)
