"""The playbooks in six languages: gettext catalogs beside the English sources.

Each playbook's English text is cut into **units**: a title, a checklist item, a table cell, or one
paragraph of a longer text. A unit's gettext *context* is where it sits (``<id>/<field>``, the id
of the section, step, scenario, template or table that holds it); its *msgid* is the English text.
The translations are ``content/locale/<language>/<playbook>.po``, one catalog per playbook and
language, which translators edit with any PO editor.

- :func:`update` rewrites a catalog from the current English: units whose English is unchanged keep
  their translation; a unit whose English changed keeps its old translation, marked **fuzzy**, with
  the old English as the *previous msgid* (``#| msgid``), so the translator sees what changed; new
  units are empty. That is what "needs review" means: a fuzzy or empty unit is shown in English
  (and counted) until a translator has looked at it. ``tldops playbooks catalogs`` runs it for
  every catalog; ``--check`` fails when one is out of date (a test runs it).
- :func:`localize` gives a playbook in one language, in the same shape as
  :func:`tldops.playbooks.content.load`, with every text in reviewed translation or in English.

Why not ``msgmerge``: it matches a changed msgid to the most similar one *anywhere* in the catalog,
so a changed checklist item could inherit a translation from another step; here a changed unit
only inherits from the same place (same context). Paragraphs are joined to one line each (list
items one line each), so re-wrapping the English in the YAML does not make work for translators.
"""

from __future__ import annotations

import copy
import difflib
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polib
import yaml

from tldops.playbooks import content

#: The community's six languages (SPEC: documents are translated into them), English first.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
    "ru": "Русский",
    "zh": "中文",
}
RTL = frozenset({"ar"})
#: Django's code for a playbook language, where they differ (Django names Chinese by its script).
DJANGO_CODES = {"zh": "zh-hans"}
LOCALE = content.CONTENT / "locale"
#: What has catalogs: each playbook, the words around them (``content/labels.yaml``) and the
#: exercises' injects (``content/injects.yaml``).
SOURCES = (*content.PLAYBOOKS, "labels", "injects")

#: Fields holding one line (translated whole) and fields holding paragraphs (translated each).
LINE_FIELDS = frozenset({"title", "subject"})
TEXT_FIELDS = frozenset(
    {"summary", "audience", "text", "intro", "decision", "trigger", "who_decides", "body"}
)
#: Lists of lines; ``rows`` is a list of lists of cells.
LINE_LISTS = frozenset({"checklist", "columns"})
#: How like the old English a changed unit must be to keep its old translation as a draft.
SIMILAR = 0.5
_BLANK_LINE = re.compile(r"\n\s*\n")
_ITEM = re.compile(r"^\s*(?:[-*]|\d{1,2}\.) ")


def paragraphs(text: str) -> list[str]:
    """``text`` as paragraphs, each on one line, list items one line each (``- item`` or
    ``1. item``)."""
    out = []
    for block in _BLANK_LINE.split(text.strip()):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if not lines:
            continue
        first_item = next((n for n, line in enumerate(lines) if _ITEM.match(line)), None)
        if first_item:  # a lead-in sentence, then a list without a blank line between
            out.append(" ".join(lines[:first_item]))
            lines = lines[first_item:]
        if _ITEM.match(lines[0]):
            items: list[str] = []
            for line in lines:
                if _ITEM.match(line) or not items:
                    items.append(line)
                else:
                    items[-1] += " " + line
            out.append("\n".join(items))
        else:
            out.append(" ".join(lines))
    return out


def _map(node: Any, owner: str, fn: Callable[[str, str], str]) -> Any:
    """A copy of ``node`` with every translatable string ``s`` replaced by ``fn(context, s)``
    (paragraph by paragraph for texts)."""
    if isinstance(node, list):
        return [_map(item, owner, fn) for item in node]
    if not isinstance(node, dict):
        return node
    here = node.get("id", owner)
    out: dict[str, Any] = {}
    for key, value in node.items():
        context = f"{here}/{key}"
        if key == "audience" and "subject" in node:
            out[key] = value  # a template's audience is a fixed word (registrars, press …)
        elif key in LINE_FIELDS and isinstance(value, str):
            out[key] = fn(context, value.strip())
        elif key in TEXT_FIELDS and isinstance(value, str):
            out[key] = "\n\n".join(fn(context, p) for p in paragraphs(value))
        elif key in LINE_LISTS and isinstance(value, list):
            out[key] = [fn(context, str(item).strip()) for item in value]
        elif key == "rows" and isinstance(value, list):
            out[key] = [
                [fn(context, cell.strip()) if cell.strip() else cell for cell in row]
                for row in value
            ]
        else:
            out[key] = _map(value, here, fn)
    return out


@dataclass(frozen=True)
class Unit:
    context: str
    text: str


@functools.cache
def _labels() -> dict[str, str]:
    with open(content.CONTENT / "labels.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def units(playbook: str) -> list[Unit]:
    """The playbook's (or the labels') translatable units in document order, each once."""
    if playbook == "labels":
        return [Unit(f"labels/{key}", text) for key, text in _labels().items()]
    seen: dict[tuple[str, str], Unit] = {}

    def collect(context: str, text: str) -> str:
        seen.setdefault((context, text), Unit(context, text))
        return text

    source = content.injects() if playbook == "injects" else content.load(playbook)
    _map(source, playbook, collect)  # an inject's units are "<inject-id>/title" and "/text"
    return list(seen.values())


def catalog_path(playbook: str, language: str) -> Path:
    return LOCALE / language / f"{playbook}.po"


def _new_catalog(playbook: str, language: str) -> polib.POFile:
    po = polib.POFile(wrapwidth=99)
    po.metadata = {
        "Project-Id-Version": f"tldops playbook {playbook}",
        "Language": language,
        "Language-Team": LANGUAGES.get(language, language),
        "Last-Translator": "tldops translators",
        "PO-Revision-Date": "2026-12-06 00:00+0000",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    return po


def merged(playbook: str, language: str) -> polib.POFile:
    """The catalog for ``language`` brought up to the current English (see the module's doc)."""
    path = catalog_path(playbook, language)
    old = polib.pofile(str(path), wrapwidth=99) if path.exists() else None
    po = _new_catalog(playbook, language)
    if old is not None:
        po.metadata.update(old.metadata)
    exact: dict[tuple[str, str], polib.POEntry] = {}
    by_context: dict[str, list[polib.POEntry]] = {}
    for entry in old or []:
        if entry.obsolete:
            continue
        exact[(entry.msgctxt, entry.msgid)] = entry
        by_context.setdefault(entry.msgctxt, []).append(entry)
    current = units(playbook)
    wanted = {(u.context, u.text) for u in current}
    for unit in current:
        entry = polib.POEntry(msgctxt=unit.context, msgid=unit.text, msgstr="")
        before = exact.get((unit.context, unit.text))
        if before is not None:
            entry.msgstr = before.msgstr
            entry.flags = list(before.flags)
            entry.previous_msgid = before.previous_msgid if before.fuzzy else None
        else:
            # The English changed: the most similar old unit of the same place that is gone.
            candidates = [
                e
                for e in by_context.get(unit.context, [])
                if (e.msgctxt, e.msgid) not in wanted and e.msgstr
            ]
            best, score = None, 0.0
            for e in candidates:
                ratio = difflib.SequenceMatcher(None, e.msgid, unit.text).ratio()
                if ratio > score:
                    best, score = e, ratio
            if best is not None and score >= SIMILAR:
                entry.msgstr = best.msgstr
                entry.flags = ["fuzzy"]
                entry.previous_msgid = best.previous_msgid or best.msgid
        po.append(entry)
    return po


def _meaning(po: polib.POFile) -> list[tuple[Any, ...]]:
    """What a catalog says, whatever editor saved it (line widths, header order)."""
    return [
        (e.msgctxt, e.msgid, e.msgstr, e.fuzzy, e.previous_msgid if e.fuzzy else None)
        for e in po
        if not e.obsolete
    ]


def stale(playbook: str, language: str) -> bool:
    """Is the catalog out of date with the English (would ``update`` change what it says)?"""
    path = catalog_path(playbook, language)
    if not path.exists():
        return True
    return _meaning(polib.pofile(str(path))) != _meaning(merged(playbook, language))


def update(playbook: str, language: str) -> bool:
    """Rewrite the catalog from the current English; True if what it says changed."""
    if not stale(playbook, language):
        return False
    path = catalog_path(playbook, language)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(merged(playbook, language)) + "\n", encoding="utf-8")
    _catalog.cache_clear()
    return True


def translated_languages() -> list[str]:
    """English and every language with a catalog, in :data:`LANGUAGES` order."""
    return [
        code
        for code in LANGUAGES
        if code == "en" or all(catalog_path(p, code).exists() for p in content.PLAYBOOKS)
    ]


@functools.cache
def _catalog(playbook: str, language: str) -> dict[tuple[str, str], str]:
    """(context, English) -> reviewed translation, for one catalog (read once per process)."""
    path = catalog_path(playbook, language)
    if not path.exists():
        return {}
    return {
        (e.msgctxt, e.msgid): e.msgstr
        for e in polib.pofile(str(path))
        if e.msgstr and not e.fuzzy and not e.obsolete
    }


def django_language(language: str) -> str:
    """The Django language code of a playbook language (``zh`` → ``zh-hans``), for
    ``translation.override`` around the words a document takes from the portal's catalogs."""
    return DJANGO_CODES.get(language, language)


def from_django(code: str | None) -> str:
    """The playbook language for a Django language code (``zh-hans`` → ``zh``, ``fr-ca`` →
    ``fr``), English when the playbooks are not in it."""
    base = (code or "en").lower().split("-")[0]
    return base if base in LANGUAGES else "en"


def label(key: str, language: str) -> str:
    """One of the words around the content (``content/labels.yaml``) in ``language``, or in
    English while its translation is missing or under review."""
    english = _labels()[key]
    if language == "en":
        return english
    return _catalog("labels", language).get((f"labels/{key}", english)) or english


def labels(language: str) -> dict[str, str]:
    """Every label in ``language`` (for templates)."""
    return {key: label(key, language) for key in _labels()}


@dataclass
class Localized:
    """A playbook in one language: ``book`` has the shape of ``content.load``."""

    playbook: str
    language: str
    book: dict[str, Any]
    units: int = 0
    #: Contexts whose text is shown in English: not translated yet, or changed since.
    review: list[str] = field(default_factory=list)
    #: The English texts shown in place of a translation (so pages can mark them ``lang="en"``).
    english: set[str] = field(default_factory=set)

    @property
    def complete(self) -> bool:
        return not self.review

    @property
    def rtl(self) -> bool:
        return self.language in RTL


def localize(playbook: str, language: str) -> Localized:
    """The playbook in ``language`` (one of :data:`LANGUAGES`); untranslated units in English."""
    if language not in LANGUAGES:
        raise KeyError(language)
    if playbook not in content.PLAYBOOKS:
        raise KeyError(playbook)
    table = _catalog(playbook, language) if language != "en" else {}
    result = Localized(playbook, language, {})

    def translate(context: str, text: str) -> str:
        result.units += 1
        if language == "en":
            return text
        found = table.get((context, text))
        if found:
            return found
        result.review.append(context)
        result.english.add(text)
        return text

    result.book = _map(copy.deepcopy(content.load(playbook)), playbook, translate)
    return result


def localized_injects(language: str) -> tuple[dict[str, Any], set[str]]:
    """The injects (shape of :func:`content.injects`) in ``language``, with the English texts
    shown in place of a missing or unreviewed translation."""
    if language not in LANGUAGES:
        raise KeyError(language)
    table = _catalog("injects", language) if language != "en" else {}
    english: set[str] = set()

    def translate(context: str, text: str) -> str:
        found = table.get((context, text)) if language != "en" else text
        if not found:
            english.add(text)
            return text
        return found

    return _map(copy.deepcopy(content.injects()), "injects", translate), english


def iter_entries(playbook: str, language: str) -> Iterator[polib.POEntry]:
    """The catalog's entries as stored (for tests and the ``catalogs`` command)."""
    path = catalog_path(playbook, language)
    if path.exists():
        yield from polib.pofile(str(path))
