"""A playbook, a ccTLD's own plan or an exercise's report as a list of blocks, and that list
printed as a PDF.

The blocks are the one shape every printed document of the playbooks goes through: the public
playbook (:func:`playbook_blocks`), a ccTLD's plan (the plan adds its own blocks around the
playbook's) and an after-action report. :func:`pdf` prints them with the kernel's typesetter
(HarfBuzz shaping of every script, fonts subset, text copyable: what the repository's edition
uses), A4, page numbers in the footer. The web pages render the same localized content with
Django templates; the blocks are for paper, which is what a ccTLD has left when the screens go.

Placeholders (``{{ tld }}`` …) are filled from ``values``; those without a value print as
``[tld]``, a blank the reader fills in by hand (the public playbook says so in its first lines).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tldops.kernel import typeset
from tldops.playbooks import catalogs, content

NUMBERED = re.compile(r"^\d{1,2}\. ")
#: Kinds of block, in the order of their weight.
KINDS = (
    "title",
    "subtitle",
    "h1",
    "h2",
    "h3",
    "p",
    "item",
    "numbered",
    "check",
    "meta",
    "note",
    "table",
)


@dataclass(frozen=True)
class Block:
    kind: str
    text: str = ""
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    #: Shown in English while its translation is missing or under review.
    english: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown block kind {self.kind!r}")


class _Isolated(dict[str, str]):
    """Values for a right-to-left document: :func:`fill` puts each in a bidi isolate."""


def _values_for(
    doc: catalogs.Localized, values: Mapping[str, str] | None
) -> Mapping[str, str] | None:
    """In a right-to-left language, ``values`` marked to be isolated: a domain name such as
    ``.example`` or ``[tld]`` inside Arabic text would otherwise have its dot or brackets
    moved by the bidi rules (``example.``). FSI/PDI are invisible in HTML and PDF."""
    return _Isolated(values or {}) if doc.rtl and not isinstance(values, _Isolated) else values


def values_for(language: str, values: Mapping[str, str]) -> Mapping[str, str]:
    """``values`` for text in ``language`` that is not a whole localized document (an exercise's
    steps and injects): isolated in a right-to-left language, as :func:`_values_for` does."""
    if language in catalogs.RTL and not isinstance(values, _Isolated):
        return _Isolated(values)
    return values


def fill(text: str, values: Mapping[str, str] | None = None) -> str:
    """``text`` with its placeholders replaced by ``values``, or by ``[name]`` where none."""
    values = values or {}
    isolate = isinstance(values, _Isolated)

    def one(match: Any) -> str:
        name = match.group(1)
        value = values.get(name)
        found = str(value) if value else f"[{name}]"
        return f"{typeset.FSI}{found}{typeset.PDI}" if isolate else found

    return content.PLACEHOLDER_RE.sub(one, text)


def text_blocks(
    text: str, values: Mapping[str, str] | None = None, english: Iterable[str] = ()
) -> list[Block]:
    """A localized text (paragraphs separated by blank lines; list items ``- …`` one per line)
    as paragraph and item blocks."""
    shown_in_english = set(english)
    out = []
    for paragraph in text.split("\n\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        is_english = paragraph in shown_in_english
        lines = paragraph.split("\n")
        if lines[0].startswith("- "):
            out.extend(Block("item", fill(line[2:], values), english=is_english) for line in lines)
        elif NUMBERED.match(lines[0]):
            out.extend(Block("numbered", fill(line, values), english=is_english) for line in lines)
        else:
            out.append(Block("p", fill(paragraph, values), english=is_english))
    return out


def _step(
    step: dict[str, Any], doc: catalogs.Localized, values: Mapping[str, str] | None
) -> list[Block]:
    words = catalogs.labels(doc.language)
    out = [Block("h3", fill(step["title"], values), english=step["title"] in doc.english)]
    meta = []
    if step.get("owner"):
        meta.append(f"{words['owner']}: {words[step['owner']]}")
    if step.get("perspective"):
        meta.append(f"{words['perspective']}: {words[step['perspective']]}")
    if meta:
        out.append(Block("meta", " · ".join(meta)))
    out += text_blocks(step["text"], values, doc.english)
    for item in step.get("checklist", []):
        out.append(Block("check", fill(item, values), english=item in doc.english))
    if step.get("decision"):
        out.append(Block("note", words["decision"]))
        out += text_blocks(step["decision"], values, doc.english)
    return out


def playbook_blocks(
    doc: catalogs.Localized, values: Mapping[str, str] | None = None
) -> list[Block]:
    """The whole playbook, localized, as blocks (placeholders filled from ``values``)."""
    book, words = doc.book, catalogs.labels(doc.language)
    out = [Block("title", book["title"], english=book["title"] in doc.english)]
    if values is None:
        out.append(Block("meta", words["fill_in"]))
    values = _values_for(doc, values)
    out += text_blocks(book["summary"], values, doc.english)
    out.append(Block("h2", words["audience"]))
    out += text_blocks(book["audience"], values, doc.english)
    for section in book["sections"]:
        out.append(
            Block("h1", fill(section["title"], values), english=section["title"] in doc.english)
        )
        out += text_blocks(section["text"], values, doc.english)
    for phase in book.get("phases", []):
        out.append(Block("h1", phase["title"], english=phase["title"] in doc.english))
        out += text_blocks(phase["intro"], values, doc.english)
        for step in phase["steps"]:
            out += _step(step, doc, values)
        out.append(Block("h2", words["ask"]))
        for step in phase["ask"]:
            out += _step(step, doc, values)
    for scenario in book.get("scenarios", []):
        out += scenario_blocks(scenario, doc, values)
    for table in book.get("tables", []):
        out += table_blocks(table, doc, values)
    return out


def scenario_blocks(
    scenario: dict[str, Any], doc: catalogs.Localized, values: Mapping[str, str] | None = None
) -> list[Block]:
    """One DR/BCP scenario: trigger, the four stages, who decides, the templates."""
    words = catalogs.labels(doc.language)
    values = _values_for(doc, values)
    out = [Block("h1", fill(scenario["title"], values), english=scenario["title"] in doc.english)]
    out.append(Block("h2", words["trigger"]))
    out += text_blocks(scenario["trigger"], values, doc.english)
    for stage in content.STAGES:
        out.append(Block("h2", words[stage]))
        for step in scenario[stage]:
            out += _step(step, doc, values)
    out.append(Block("h2", words["who_decides"]))
    out += text_blocks(scenario["who_decides"], values, doc.english)
    out.append(Block("h2", words["communication"]))
    for template in scenario["communication"]:
        out.append(Block("h3", words[template["audience"]]))
        subject = fill(template["subject"], values)
        out.append(
            Block(
                "meta", f"{words['subject']}: {subject}", english=template["subject"] in doc.english
            )
        )
        out += text_blocks(template["body"], values, doc.english)
    return out


def table_blocks(
    table: dict[str, Any], doc: catalogs.Localized, values: Mapping[str, str] | None = None
) -> list[Block]:
    values = _values_for(doc, values)
    out = [Block("h2", fill(table["title"], values), english=table["title"] in doc.english)]
    out += text_blocks(table["text"], values, doc.english)
    out.append(
        Block(
            "table",
            columns=tuple(fill(c, values) for c in table["columns"]),
            rows=tuple(tuple(fill(cell, values) for cell in row) for row in table["rows"]),
        )
    )
    return out


# --- PDF ----------------------------------------------------------------------------------------------

MM = typeset.MM
STYLES = {
    "title": typeset.Style(size=18, bold=True, leading=1.25, after=3 * MM),
    "subtitle": typeset.Style(size=11, gray=0.27, after=3 * MM),
    "h1": typeset.Style(
        size=14, bold=True, before=6 * MM, after=2 * MM, rule=True, keep_with_next=True
    ),
    "h2": typeset.Style(size=11.5, bold=True, before=4 * MM, after=1.5 * MM, keep_with_next=True),
    "h3": typeset.Style(size=10, bold=True, before=3 * MM, after=1 * MM, keep_with_next=True),
    "p": typeset.Style(size=9.5, leading=1.4, after=1.8 * MM, indent=0),
    "item": typeset.Style(size=9.5, leading=1.4, after=0.8 * MM, indent=9),
    "numbered": typeset.Style(size=9.5, leading=1.4, after=0.8 * MM, indent=12),
    "check": typeset.Style(size=9.5, leading=1.4, after=0.8 * MM, indent=11),
    "meta": typeset.Style(size=8.5, gray=0.33, after=1.5 * MM, indent=0),
    "note": typeset.Style(
        size=9.5, bold=True, before=1.5 * MM, after=0.8 * MM, keep_with_next=True
    ),
    "cell-head": typeset.Style(size=9, bold=True, leading=1.3, before=2 * MM, indent=0),
    "cell": typeset.Style(size=9, leading=1.3, after=2 * MM, indent=0),
}
#: Space between a table cell's text and its rules, points.
CELL_PADDING = 3.0
PREFIX = {"item": "• ", "check": "☐ "}


def pdf(blocks: list[Block], *, title: str, language: str = "en", footer: str = "") -> bytes:
    """The blocks as an A4 PDF. ``footer`` may hold ``{page}`` and ``{pages}``; the default is
    the title and "Page n of m" in ``language``.

    In a right-to-left language (:data:`catalogs.RTL`) paragraphs, tables and the footer run
    right to left, except blocks still shown in English (``Block.english``), which stay left to
    right so that their punctuation stays at their end. Tables are real tables (columns sized
    from their content, header repeated on every page)."""
    words = catalogs.labels(language)
    rtl = language in catalogs.RTL
    doc = typeset.Document(
        title,
        footer=footer or f"{title} · {words['page']}",
        margins=(18 * MM, 18 * MM, 18 * MM, 18 * MM),
        rtl=rtl,
    )
    for n, block in enumerate(blocks):
        if block.kind == "table":
            doc.table(
                block.columns,
                block.rows,
                style=STYLES["cell"],
                head=STYLES["cell-head"],
                padding=CELL_PADDING,
            )
            continue
        style = STYLES[block.kind]
        keep = 0.0
        if style.keep_with_next and n + 1 < len(blocks):
            if blocks[n + 1].kind == "table":  # its header and first row
                cell = STYLES["cell"]
                row = cell.size * cell.leading + 2 * CELL_PADDING
                keep = 2 * row + STYLES["cell-head"].before
            else:
                following = STYLES.get(blocks[n + 1].kind, STYLES["p"])
                keep = following.size * following.leading
        doc.add(
            PREFIX.get(block.kind, "") + block.text, style, keep=keep, rtl=rtl and not block.english
        )
    return doc.render()


# --- Outline (for web pages) ------------------------------------------------------------------------


def parts(text: str, values: Mapping[str, str] | None, english: Iterable[str] = ()) -> list[dict]:
    """A text as page parts: ``{"kind": "p", "text"}`` or ``{"kind": "ul"|"ol", "items"}``,
    each with ``english`` (shown in English while its translation is reviewed)."""
    out: list[dict] = []
    for block in text_blocks(text, values, english):
        kind = {"item": "ul", "numbered": "ol"}.get(block.kind)
        if kind is None:
            out.append({"kind": "p", "text": block.text, "english": block.english})
        elif out and out[-1]["kind"] == kind:
            out[-1]["items"].append(block.text)
        else:
            out.append({"kind": kind, "items": [block.text], "english": block.english})
    return out


def _line(text: str, doc: catalogs.Localized, values: Mapping[str, str] | None) -> dict:
    return {"text": fill(text, values), "english": text in doc.english}


def _step_outline(
    step: dict[str, Any], doc: catalogs.Localized, values: Mapping[str, str] | None
) -> dict:
    words = catalogs.labels(doc.language)
    return {
        "id": step["id"],
        "title": _line(step["title"], doc, values),
        "owner": step.get("owner", ""),
        "owner_label": words.get(step.get("owner", ""), ""),
        "perspective_label": words.get(step.get("perspective", ""), ""),
        "body": parts(step["text"], values, doc.english),
        "checklist": [_line(item, doc, values) for item in step.get("checklist", [])],
        "decision": parts(step["decision"], values, doc.english) if step.get("decision") else [],
    }


def outline(doc: catalogs.Localized, values: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The localized playbook as a tree a page template walks: texts cut into parts, labels in
    the language, placeholders filled (or ``[name]``), English stand-ins marked."""
    book, words = doc.book, catalogs.labels(doc.language)
    return {
        "id": book["id"],
        "title": _line(book["title"], doc, values),
        "summary": parts(book["summary"], values, doc.english),
        "audience": parts(book["audience"], values, doc.english),
        "sections": [
            {
                "id": s["id"],
                "title": _line(s["title"], doc, values),
                "body": parts(s["text"], values, doc.english),
            }
            for s in book["sections"]
        ],
        "phases": [
            {
                "id": p["id"],
                "title": _line(p["title"], doc, values),
                "intro": parts(p["intro"], values, doc.english),
                "steps": [_step_outline(s, doc, values) for s in p["steps"]],
                "ask": [_step_outline(s, doc, values) for s in p["ask"]],
            }
            for p in book.get("phases", [])
        ],
        "scenarios": [
            {
                "id": sc["id"],
                "title": _line(sc["title"], doc, values),
                "trigger": parts(sc["trigger"], values, doc.english),
                "stages": [
                    {
                        "key": stage,
                        "label": words[stage],
                        "steps": [_step_outline(s, doc, values) for s in sc[stage]],
                    }
                    for stage in content.STAGES
                ],
                "who_decides": parts(sc["who_decides"], values, doc.english),
                "templates": [
                    {
                        "id": t["id"],
                        "audience": t["audience"],
                        "audience_label": words[t["audience"]],
                        "subject": _line(t["subject"], doc, values),
                        "body": parts(t["body"], values, doc.english),
                    }
                    for t in sc["communication"]
                ],
            }
            for sc in book.get("scenarios", [])
        ],
        "tables": [
            {
                "id": t["id"],
                "title": _line(t["title"], doc, values),
                "body": parts(t["text"], values, doc.english),
                "columns": [fill(c, values) for c in t["columns"]],
                "rows": [[fill(cell, values) for cell in row] for row in t["rows"]],
            }
            for t in book.get("tables", [])
        ],
    }
