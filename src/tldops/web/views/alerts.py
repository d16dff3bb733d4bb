"""The alert pages: the list with its filters, an alert with its reactions, status and indicators,
and the form to raise one (issue 10).

A thin door onto :mod:`tldops.alerts.services`: who may read which alert (TLP 2.0) is decided
there, with the signed-in person, and never here. An alert the person may not read is this
portal's 404, whether it exists or not.

None of these pages goes through the page cache (:mod:`tldops.web.fragments`): its key holds the
role flags, not the person, and a TLP:RED alert is for the people it names only. Every answer says
``Cache-Control: private, no-store`` so that no proxy or shared disk keeps one either.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_POST
from markdown_it import MarkdownIt

from tldops.alerts import services, slices
from tldops.alerts.models import Alert, Reaction
from tldops.alerts.tlp import MEANING, Tlp
from tldops.directory import permissions
from tldops.directory.audit import Actor
from tldops.directory.models import Person
from tldops.directory.permissions import role_of
from tldops.kernel.errors import DirectoryError, NotFound
from tldops.web.access import member_required
from tldops.web.fragments import cached_page
from tldops.web.templatetags.web_tags import tlp_class

ALERTS_PER_PAGE = 50
#: The columns of the reactions table, in the order of the template's headings.
REACTION_COLUMNS = ("seen", "sightings", "not-seen", "false-positive", "mitigated")
#: How many indicators the detail page lists (the API's detail shows as many).
INDICATORS_SHOWN = 1000
#: Refused lines an upload's answer lists (the service keeps the first 1,000).
REFUSED_SHOWN = 50

#: One line on each label, for the form (the labels' own words: tldops.alerts.tlp).
TLP_HELP = MEANING

#: The form's fields; a service error on any other field is shown above the form.
FORM_FIELDS = (
    "title",
    "kind",
    "category",
    "severity",
    "tlp",
    "affected",
    "body",
    "public",
    "recipients",
    "indicators",
)

# Markdown as CommonMark, with raw HTML escaped (never passed through), no images (they would load
# from other sites, which the Content-Security-Policy refuses anyway) and markdown-it's own check
# that refuses javascript:, vbscript:, file: and data: links.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def render_markdown(text: str) -> SafeString:
    """An alert's text as HTML: Markdown rendered safely (raw HTML shown as text)."""
    return mark_safe(_MARKDOWN.render(text or ""))  # noqa: S308 - html disabled: escaped


#: ``Cache-Control: private, no-store``: an alert page is for the person who asked, nobody else.
private = cache_control(private=True, no_store=True)


def _person(request: HttpRequest) -> Person:
    person = permissions.person_of(request.user)
    assert person is not None  # noqa: S101 - member_required let a signed-in person through
    return person


def _actor(person: Person) -> Actor:
    return Actor.of(person, "web")


def _get(person: Person, pk: int) -> Alert:
    try:
        return services.get(person, pk)
    except NotFound:
        raise Http404(_("No alert that you may read at this address.")) from None


def _messages_of(exc: DirectoryError, fields: tuple[str, ...]) -> dict[str, str]:
    """Every problem of ``exc`` by form field (``general`` for the rest), all at once."""
    errors: dict[str, str] = {}
    for error in exc.errors:
        field = error.field if error.field in fields else "general"
        errors[field] = " ".join(filter(None, [errors.get(field), error.message]))
    return errors


# --- The list ----------------------------------------------------------------------------------


FILTERS = ("category", "tld", "tlp", "status", "text")
#: Characters of a filter read from the address (the services refuse what is not a known value).
FILTER_MAX = 200


#: A list row; every value is escaped by :func:`format_html_join` (the title is the author's).
ROW_HTML = (
    '<tr><td><span class="tlp {}">{}</span></td><td><a href="{}">{}</a></td><td>{}</td>'
    '<td>{}</td><td>{}</td><td>{}</td><td class="nowrap">{}</td></tr>\n'
)


def _rows_html(alerts: Any) -> SafeString:
    """The page's table rows, built here in plain Python, values escaped.

    Measured with 10,000 alerts and 20 signed-in clients (bench/load_directory.py): the rows
    were most of the list's time. The template did ``get_category_display`` (which translates
    every label of the field's choices at each call: about 900 translations for 50 rows),
    ``{% url %}``, a loop and the ``date`` filter in every row; then, with the values made here,
    its variable lookups and auto-escaping still cost about 3 ms of the page's 8 ms of CPU. One
    ``format_html_join`` over 50 rows costs a tenth of that. The labels are translated once for
    the page, the address made by one ``reverse()``, the affected ccTLDs read from the row
    (:func:`services.affected_alabels`).
    """
    names = {
        field: {value: str(label) for value, label in choices.choices}
        for field, choices in (
            ("category", Alert.Category),
            ("severity", Alert.Severity),
            ("status", Alert.Status),
        )
    }
    # One reverse() for the page: the rows' addresses differ only by the number.
    before, _zero, after = reverse("web:alert", args=[0]).rpartition("0")
    return format_html_join(
        "",
        ROW_HTML,
        (
            (
                tlp_class(a.tlp),
                Tlp(a.tlp).tag,
                f"{before}{a.pk}{after}",
                a.title,
                names["category"].get(a.category, a.category),
                names["severity"].get(a.severity, a.severity),
                names["status"].get(a.status, a.status),
                ", ".join(f".{t}" for t in services.affected_alabels(a)) or "—",
                timezone.localtime(a.created_at).strftime("%Y-%m-%d %H:%M"),
            )
            for a in alerts
        ),
    )


@member_required
@private
def alert_list(request: HttpRequest) -> HttpResponse:
    """The alerts the signed-in person may read, newest first, with filters.

    Kept whole in the page cache (:func:`tldops.web.fragments.cached_page`: the CSRF token and the
    page's address filled in per request) under a key of **this person's own** — their id and
    the role they act with, the filters, the page — and the directory version, which every
    audited change bumps: raising an alert, changing its status, a membership or a role
    changing (``tldops.directory.cache``). Only the person it was made for is ever served an
    entry, so nothing of one reader's alerts can reach another (TLP: a RED alert's readers,
    AMBER's community); a person who reads the list again before anything changes gets it for
    the price of the access check and a cache look-up. Bad filters are refused (400) and never
    cached. Measured by bench/load_directory.py (docs/benchmarks.md, "Alert pages under load").
    """
    person = _person(request)
    values = {name: request.GET.get(name, "").strip()[:FILTER_MAX] for name in FILTERS}
    page_number = request.GET.get("page", "")[:20]
    try:
        return cached_page(
            request,
            "web/alerts/list.html",
            lambda: _list_context(person, values, page_number),
            name="alert-list",
            parts=(person.pk, role_of(person), tuple(values.values()), page_number),
        )
    except DirectoryError as exc:
        return render(
            request,
            "web/alerts/list.html",
            {**_list_context(None, values, ""), "errors": _messages_of(exc, FILTERS)},
            status=exc.status,
        )


def _list_context(
    person: Person | None, values: dict[str, str], page_number: str
) -> dict[str, Any]:
    """The list page's context; its results (count, rows, pager) when ``person`` is given
    (:class:`DirectoryError` for filters the services refuse)."""
    results = SafeString("")
    if person is not None:
        rows = services.search(person, services.Filters(**values))
        page = Paginator(rows, ALERTS_PER_PAGE).get_page(page_number)
        results = render_to_string(
            "web/alerts/list_results.html",
            {"page": page, "rows_html": _rows_html(page.object_list), "pager_params": values},
        )
    return {
        "values": values,
        "errors": {},
        "results_html": results,
        "categories": Alert.Category.choices,
        "statuses": Alert.Status.choices,
        "labels": list(Tlp),
    }


# --- One alert ---------------------------------------------------------------------------------


def _detail(
    request: HttpRequest,
    alert: Alert,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    upload: Any = None,
    reaction: dict[str, str] | None = None,
) -> HttpResponse:
    return render(
        request,
        "web/alerts/detail.html",
        _detail_context(request, alert, errors=errors, upload=upload, reaction=reaction),
        status=status,
    )


def _detail_context(
    request: HttpRequest,
    alert: Alert,
    *,
    errors: dict[str, str] | None = None,
    upload: Any = None,
    reaction: dict[str, str] | None = None,
) -> dict[str, Any]:
    person = _person(request)
    # The first page of indicators, and their number only when there are more (a query saved).
    shown = list(alert.indicators.all()[: INDICATORS_SHOWN + 1])
    count = len(shown) if len(shown) <= INDICATORS_SHOWN else alert.indicators.count()
    return {
        "alert": alert,
        "body": render_markdown(alert.body),
        "tlp_help": TLP_HELP[alert.label],
        "affected": list(alert.affected.order_by("alabel")),
        "indicator_count": count,
        "indicators": shown[:INDICATORS_SHOWN],
        "indicators_shown": INDICATORS_SHOWN,
        "reactions": [
            (tld, [counts.get(column, 0) for column in REACTION_COLUMNS])
            for tld, counts in services.reactions_by_tld(alert).items()
        ],
        "reaction_kinds": Reaction.Kind.choices,
        "history": list(alert.status_changes.select_related("by")),
        "thread": services.thread(alert),
        "slices": slices.summary(alert),
        "statuses": Alert.Status.choices,
        "is_author": alert.author_id == person.pk,
        "errors": errors or {},
        "upload": upload,
        "reaction": reaction or {},
        "upload_limit": filesizeformat(settings.ALERT_UPLOAD_MAX_BYTES),
    }


@member_required
@private
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An alert: its TLP banner, text, indicators, reactions per ccTLD and status history.

    Kept whole in the page cache (:func:`tldops.web.fragments.cached_page`: the CSRF token filled
    in per request) under a key of **this reader's own** — their id and role, the alert and the
    time it last changed (``Alert.updated_at``, which every answer, reply, status, indicator or
    slice touches) — and the directory version: read again before anything changes, it costs
    the access check and a cache look-up. Only the person it was made for is ever served an
    entry (TLP). A page with errors or messages is never cached."""
    person = _person(request)
    alert = _get(person, pk)
    return cached_page(
        request,
        "web/alerts/detail.html",
        lambda: _detail_context(request, alert),
        name="alert",
        parts=(person.pk, role_of(person), alert.pk, alert.updated_at.isoformat()),
    )


@member_required
@private
@require_POST
def alert_react(request: HttpRequest, pk: int) -> HttpResponse:
    """A member's answer: seen here too (with an optional count), not seen, false positive,
    mitigated; it replaces their previous one."""
    person = _person(request)
    alert = _get(person, pk)
    typed = {
        "kind": request.POST.get("kind", "")[:20],
        "count": request.POST.get("count", "").strip()[:20],
        "note": request.POST.get("note", ""),
    }
    count: int | None = None
    if typed["count"]:
        if not re.fullmatch(r"[0-9]+", typed["count"]):
            return _detail(
                request,
                alert,
                status=400,
                errors={"reaction": _("The count is a whole number, such as 120.")},
                reaction=typed,
            )
        count = int(typed["count"])
    data = services.ReactionInput(kind=typed["kind"], count=count, note=typed["note"])
    try:
        services.react(person, pk, data, actor=_actor(person))
    except DirectoryError as exc:
        return _detail(
            request, alert, status=exc.status, errors={"reaction": exc.message}, reaction=typed
        )
    messages.success(request, _("Your answer is recorded for your ccTLD."))
    return redirect("web:alert", pk=pk)


@member_required
@private
@require_POST
def alert_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Open, monitoring, resolved: the author, the secretariat and the committee (the service
    says who)."""
    person = _person(request)
    alert = _get(person, pk)
    try:
        services.change_status(
            person, pk, request.POST.get("status", "")[:20], actor=_actor(person)
        )
    except DirectoryError as exc:
        return _detail(request, alert, status=exc.status, errors={"status": exc.message})
    messages.success(request, _("The status is changed."))
    return redirect("web:alert", pk=pk)


@member_required
@private
@require_POST
def alert_indicators(request: HttpRequest, pk: int) -> HttpResponse:
    """The author uploads a list of indicators, one per line, read line by line (Django keeps an
    upload above ``FILE_UPLOAD_MAX_MEMORY_SIZE`` on disk, not in memory)."""
    person = _person(request)
    alert = _get(person, pk)
    upload = request.FILES.get("file")
    if upload is None:
        return _detail(request, alert, status=400, errors={"upload": _("Choose a file to upload.")})
    if upload.size > settings.ALERT_UPLOAD_MAX_BYTES:
        message = _("The file is over the limit of %(size)s; nothing was kept.") % {
            "size": filesizeformat(settings.ALERT_UPLOAD_MAX_BYTES)
        }
        return _detail(request, alert, status=413, errors={"upload": message})
    upload.seek(0)
    try:  # binary: a line that is not UTF-8 is refused on its own line
        result = services.add_indicators(person, pk, upload, actor=_actor(person))
    except DirectoryError as exc:
        return _detail(request, alert, status=exc.status, errors={"upload": exc.message})
    summary = {
        "added": len(result.indicators),
        "refused": result.error_count,
        "errors": result.errors[:REFUSED_SHOWN],
    }
    return _detail(request, _get(person, pk), upload=summary)


# --- Raising one -------------------------------------------------------------------------------


def _items(text: str, separators: str) -> list[str]:
    return [item.strip() for item in re.split(f"[{separators}]", text) if item.strip()]


@member_required
@private
@require_http_methods(["GET", "POST"])
def alert_new(request: HttpRequest) -> HttpResponse:
    """The form to raise an alert, a query or an advisory: every problem shown at once next to
    its field, what was typed kept, and nothing stored until all is right."""
    person = _person(request)
    errors: dict[str, str] = {}
    status = 200
    values: dict[str, Any] = {
        "kind": Alert.Kind.ALERT,
        "severity": Alert.Severity.MEDIUM,
        "tlp": "",
        "category": "",
    }
    if request.method == "POST":
        post = request.POST
        values = {
            name: post.get(name, "")
            for name in (
                "title",
                "kind",
                "category",
                "severity",
                "tlp",
                "affected",
                "body",
                "recipients",
                "indicators",
            )
        }
        values["public"] = bool(post.get("public"))
        values["red_to_affected"] = bool(post.get("red_to_affected"))
        # Bound by the request size (DATA_UPLOAD_MAX_MEMORY_SIZE); longer lists are uploaded.
        lines = [line for line in values["indicators"].splitlines() if line.strip()]
        data = services.AlertInput(
            title=values["title"],
            category=values["category"],
            tlp=values["tlp"],
            kind=values["kind"],
            severity=values["severity"],
            body=values["body"],
            affected=_items(values["affected"], ",\\s"),
            public=values["public"],
            recipients=_items(values["recipients"], ",;\\s"),
            red_to_affected=values["red_to_affected"],
            indicators=lines,
        )
        try:
            alert = services.raise_alert(person, data, actor=_actor(person))
        except DirectoryError as exc:
            errors = _messages_of(exc, FORM_FIELDS)
            status = exc.status
        else:
            text = _("Your alert is raised as %(tag)s.") % {"tag": alert.label.tag}
            if alert.indicator_errors:
                refused = "; ".join(
                    _("line %(n)d: %(why)s") % {"n": n, "why": why}
                    for n, why in alert.indicator_errors[:REFUSED_SHOWN]
                )
                text += " " + _("Indicators refused (the others are kept): %(list)s") % {
                    "list": refused
                }
            messages.success(request, text)
            return redirect("web:alert", pk=alert.pk)
    return render(
        request,
        "web/alerts/new.html",
        {
            "values": values,
            "errors": errors,
            "labels": [(t.value, t.tag, TLP_HELP[t]) for t in Tlp],
            "kinds": Alert.Kind.choices,
            "categories": Alert.Category.choices,
            "severities": Alert.Severity.choices,
        },
        status=status,
    )
