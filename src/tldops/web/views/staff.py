"""Pages for the secretariat and the standing committee: invitations, the audit log, removals,
resetting a person's second factor."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.catalog.lookup import resolve_tld
from tldops.catalog.models import Tld
from tldops.directory import actions, permissions, queries, second_factor
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry, Invitation, Membership, Person
from tldops.kernel.errors import DirectoryError, InvalidInput
from tldops.web.access import forbidden, staff_required
from tldops.web.forms import (
    InviteBatchForm,
    InviteOneForm,
    RemoveForm,
    ResetSecondFactorForm,
    add_directory_error,
)

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> Actor:
    return Actor.of(permissions.person_of(request.user), "web")


@staff_required
def invitations(request: HttpRequest) -> HttpResponse:
    """Invite one ccTLD or a letter range, and follow who was invited, reminded, answered."""
    one = InviteOneForm(prefix="one")
    batch = InviteBatchForm(prefix="batch", initial={"first": "a", "last": "c"})
    invited: list[Invitation] = []
    skipped: list[tuple[Tld, str]] = []
    status = 200
    if request.method == "POST":
        if request.POST.get("form") == "batch":
            batch = InviteBatchForm(request.POST, prefix="batch")
            if batch.is_valid():
                first, last = batch.cleaned_data["first"], batch.cleaned_data["last"]
                name = batch.cleaned_data["batch"].strip() or (
                    f"{first}-{last} {timezone.localdate():%Y-%m-%d}"
                )
                tlds = Tld.objects.delegated().filter(
                    alabel__gte=first, alabel__lt=chr(ord(last) + 1)
                )
                invited, skipped = actions.invite_batch(
                    tlds.order_by("alabel"), actor=_actor(request), batch=name
                )
            else:
                status = 400
        else:
            one = InviteOneForm(request.POST, prefix="one")
            if one.is_valid():
                try:
                    tld = resolve_tld(one.cleaned_data["tld"])
                    invited = [
                        actions.invite_cctld(
                            tld, actor=_actor(request), batch=one.cleaned_data["batch"].strip()
                        )
                    ]
                except DirectoryError as exc:
                    add_directory_error(one, exc)
                    status = exc.status
                else:
                    one = InviteOneForm(prefix="one")
            else:
                status = 400
    status_filter = request.GET.get("status", "")
    batch_filter = request.GET.get("batch", "")
    page = Paginator(
        queries.invitation_tracking(status=status_filter, batch=batch_filter), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    batches = (
        Invitation.objects.exclude(batch="")
        .order_by("batch")
        .values_list("batch", flat=True)
        .distinct()
    )
    return render(
        request,
        "web/invitations.html",
        {
            "one": one,
            "batch_form": batch,
            "invited": invited,
            "skipped": skipped,
            "page": page,
            "pager_params": {"status": status_filter, "batch": batch_filter},
            "statuses": Invitation.Status.choices,
            "batches": list(batches),
            "status_filter": status_filter,
            "batch_filter": batch_filter,
        },
        status=status,
    )


@staff_required
def audit(request: HttpRequest) -> HttpResponse:
    """The audit log, newest first, filterable by ccTLD and action."""
    entries = AuditEntry.objects.select_related("tld", "person").order_by("-at", "-id")
    tld_text = request.GET.get("tld", "").strip()
    action = request.GET.get("action", "").strip()
    error = None
    if tld_text:
        try:
            entries = entries.filter(tld=resolve_tld(tld_text, delegated_only=False))
        except InvalidInput as exc:
            error = exc.message
            entries = entries.none()
    if action:
        entries = entries.filter(action=action)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    actions_list = list(
        AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()
    )
    return render(
        request,
        "web/audit.html",
        {
            "page": page,
            "pager_params": {"tld": tld_text, "action": action},
            "tld_text": tld_text,
            "action": action,
            "actions": actions_list,
            "error": error,
        },
    )


@staff_required
def remove_member(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a contact (e.g. on the admin contact's written request), with a reason."""
    membership = get_object_or_404(Membership.objects.select_related("person", "tld"), pk=pk)
    form = RemoveForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.remove_contact(
                    membership, actor=_actor(request), reason=form.cleaned_data["reason"].strip()
                )
            except DirectoryError as exc:
                add_directory_error(form, exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("%(name)s is no longer a contact of %(tld)s.")
                    % {"name": membership.person.name, "tld": membership.tld.display},
                )
                return redirect("web:directory")
        else:
            status = 400
    return render(
        request,
        "web/remove_member.html",
        {"membership": membership, "form": form},
        status=status,
    )


@staff_required
def reset_second_factor(request: HttpRequest, pk: int) -> HttpResponse:
    """Reset a person's second factor (they lost their authenticator app), with a reason and a
    confirmation; the rules are :mod:`tldops.directory.second_factor`'s."""
    person = get_object_or_404(Person, pk=pk)
    actor = _actor(request)
    try:
        second_factor.check_may_reset(person, actor=actor)
    except DirectoryError as exc:
        return forbidden(request, exc.message)
    form = ResetSecondFactorForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                second_factor.reset(person, actor=actor, reason=form.cleaned_data["reason"])
            except DirectoryError as exc:
                add_directory_error(form, exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _(
                        "The second factor of %(name)s is reset: they are signed out and were told "
                        "by email."
                    )
                    % {"name": person.name},
                )
                return redirect("web:directory")
        else:
            status = 400
    return render(
        request,
        "web/reset_second_factor.html",
        {"target": person, "form": form, "has_factor": second_factor.has_second_factor(person)},
        status=status,
    )
