"""The public playbook pages and downloads: anyone, signed in or not, reads each playbook in any
of its languages as a web page, and downloads it as a PDF (issue 12: "public, without login").

Thin doors onto :mod:`tldops.playbooks.catalogs` (the text in a language) and
:mod:`tldops.playbooks.document` (its outline for the page, its blocks for the PDF). The content
changes only with a new release, so a PDF is made once per process and language and then served
from memory (about a second for the DR/BCP playbook; 12 files of a few hundred kilobytes at most).
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from tldops.playbooks import cacao, catalogs, content, document


def _check(playbook: str, language: str | None = None) -> None:
    if playbook not in content.PLAYBOOKS:
        raise Http404("No such playbook.")
    if language is not None and language not in catalogs.translated_languages():
        raise Http404("This playbook is not in that language.")


def _languages() -> list[tuple[str, str]]:
    return [(code, catalogs.LANGUAGES[code]) for code in catalogs.translated_languages()]


def _public(response: HttpResponse) -> HttpResponse:
    """The same for everyone: a shared cache may keep it for an hour."""
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_safe
def playbook_index(request: HttpRequest) -> HttpResponse:
    """Both playbooks, each with its languages, how complete each translation is, and downloads."""
    items = []
    for playbook in content.PLAYBOOKS:
        languages = []
        for code, name in _languages():
            doc = catalogs.localize(playbook, code)
            languages.append({"code": code, "name": name, "review": len(doc.review)})
        preferred = _preferred()
        doc = catalogs.localize(playbook, preferred)
        items.append(
            {
                "id": playbook,
                "title": doc.book["title"],
                "summary": document.parts(doc.book["summary"], None)[0]["text"],
                "languages": languages,
                "default_language": preferred,
            }
        )
    return render(request, "web/playbooks/index.html", {"playbooks": items, "cacao": CACAO})


def _preferred() -> str:
    """The reader's interface language if the playbooks are in it, else English."""
    code = catalogs.from_django(get_language())
    return code if code in catalogs.translated_languages() else "en"


@require_safe
def playbook_default(request: HttpRequest, playbook: str) -> HttpResponse:
    _check(playbook)
    return redirect("web:playbook_page", playbook, _preferred())


@require_safe
def playbook_page(request: HttpRequest, playbook: str, language: str) -> HttpResponse:
    """One playbook in one language, the whole of it on one page with a table of contents."""
    _check(playbook, language)
    doc = catalogs.localize(playbook, language)
    response = render(
        request,
        "web/playbooks/page.html",
        {
            "playbook": playbook,
            "language": language,
            "direction": "rtl" if doc.rtl else "ltr",
            "pb_languages": _languages(),
            "book": document.outline(doc),
            "words": catalogs.labels(language),
            "review": len(doc.review),
            "cacao": CACAO,
            "cacao_links": CACAO,
        },
    )
    response["Content-Language"] = language
    return response


@functools.lru_cache(maxsize=1)
def _css() -> str:
    """The pages' stylesheet, put inside a downloaded HTML file (which has no portal around it)."""
    path = finders.find("web/playbooks.css")
    return Path(path).read_text(encoding="utf-8") if path else ""


@require_safe
def playbook_html(request: HttpRequest, playbook: str, language: str) -> HttpResponse:
    """The playbook as one self-contained HTML file to keep: no menu, its style inside it."""
    _check(playbook, language)
    doc = catalogs.localize(playbook, language)
    body = render_to_string(
        "web/playbooks/standalone.html",
        {
            "language": language,
            "direction": "rtl" if doc.rtl else "ltr",
            "book": document.outline(doc),
            "words": catalogs.labels(language),
            "css": mark_safe(_css()),  # noqa: S308 — our own stylesheet, not input
            # The configured address, not the request's Host: the file may be kept by a shared
            # cache for an hour and served to everyone.
            "source": settings.BASE_URL + reverse("web:playbook_page", args=[playbook, language]),
        },
    )
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="tldops-{playbook}-{language}.html"'
    response["Content-Language"] = language
    return _public(response)


@functools.lru_cache(maxsize=32)
def _pdf(playbook: str, language: str) -> bytes:
    doc = catalogs.localize(playbook, language)
    return document.pdf(document.playbook_blocks(doc), title=doc.book["title"], language=language)


@require_safe
def playbook_pdf(request: HttpRequest, playbook: str, language: str) -> HttpResponse:
    """The playbook as an A4 PDF, to print before a disaster takes the screens away."""
    _check(playbook, language)
    response = HttpResponse(_pdf(playbook, language), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="tldops-{playbook}-{language}.pdf"'
    response["Content-Language"] = language
    return _public(response)


@functools.lru_cache(maxsize=32)
def _cacao_zip(playbook: str, language: str) -> bytes:
    return cacao.archive(playbook, language)


@require_safe
def playbook_cacao(request: HttpRequest, playbook: str, language: str) -> HttpResponse:
    """The playbook as OASIS CACAO 2.0 JSON: a zip of one file per DR/BCP scenario (one file for
    the DDoS playbook), for security tools."""
    _check(playbook, language)
    response = HttpResponse(_cacao_zip(playbook, language), content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="{cacao.archive_name(playbook, language)}"'
    )
    return _public(response)


@require_safe
def playbook_cacao_one(
    request: HttpRequest, playbook: str, language: str, part: str
) -> HttpResponse:
    """One CACAO 2.0 playbook: a DR/BCP scenario (``part`` is its id), or the whole DDoS playbook
    (``part`` is ``ddos``)."""
    _check(playbook, language)
    book = content.load(playbook)
    parts = [s["id"] for s in book.get("scenarios", [])] or [playbook]
    if part not in parts:
        raise Http404("No such scenario.")
    document_ = cacao.playbooks(playbook, language)[parts.index(part)]
    response = HttpResponse(cacao.dumps(document_), content_type="application/json")
    scenario = part if book.get("scenarios") else None
    response["Content-Disposition"] = (
        f'attachment; filename="{cacao.filename(playbook, language, scenario)}"'
    )
    return _public(response)


#: The CACAO downloads are offered on the pages.
CACAO = True
