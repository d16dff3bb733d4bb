"""A small, fast PDF typesetter for line-oriented documents in any script (the edition's PDF).

Why it exists (measured, docs/benchmarks.md "Contact repository edition"): WeasyPrint needs
2.5–3 CPU seconds for the 1,000-contact edition, cold or warm, whatever the template; fpdf2
with text shaping 15–17 s (its line breaking shapes every prefix of every line), without
shaping 5 s (and then Arabic is not joined). This module does the same job in a fraction:
HarfBuzz (``uharfbuzz``) shapes each line once — joining Arabic, reordering Devanagari, kerning —
and subsets the fonts; the PDF is written directly.

What it supports, and no more: lines of text in one of a few styles (:class:`Style`), wrapped at
spaces when too long (continuation lines indented) and between Chinese/Japanese characters
(:func:`breakable`), left-to-right or right-to-left paragraphs, headings that are kept with the line
after them, a rule under a heading, tables (:meth:`Document.table`: columns sized from their
content, cells wrapped, header repeated on every page), a footer on every page (``{page}`` and
``{pages}``), A4.

- **Fonts**: a stack of families (fontconfig's ``fc-list`` says where their files are); each
  character takes the first family that has it, so Latin, Greek and Cyrillic come from DejaVu
  Sans, Arabic from Noto Sans Arabic, CJK from Noto Sans CJK … Only the glyphs used are embedded
  (HarfBuzz subsetter), with a ToUnicode map so text can be copied and searched (pdftotext).
- **Bidirectional text**: a paragraph's base direction is left-to-right unless it is added with
  ``rtl=True`` (paragraph level 1: lines right-aligned, continuation indent on the right, each
  wrapped line reordered on its own). Right-to-left letters (Arabic, Hebrew …) form right-to-left
  runs; text between FSI (U+2068) and PDI (U+2069) is an isolate whose direction is that of its
  first strong letter (Unicode bidi rules X5c, W/N and L2, simplified: numbers and Latin letters
  inside right-to-left text keep their own order).
- **Line breaking**: at spaces (the space is dropped), and, for text without spaces (Chinese,
  Japanese), between ideographs and kana and after CJK punctuation — never before closing
  punctuation (。，、）」 …) nor after opening punctuation (（「 …), the basic rules of UAX #14 and
  JIS X 4051 for these scripts.

Font files, HarfBuzz faces and character maps are loaded once per process (a long-running worker
pays for them once).
"""

from __future__ import annotations

import functools
import subprocess
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import uharfbuzz as hb

MM = 72 / 25.4
A4 = (595.28, 841.89)
FSI, LRI, RLI, PDI = "\u2068", "\u2066", "\u2067", "\u2069"
_STRONG_RTL = ("R", "AL")
_NUMBER = ("EN", "AN")

#: Families in fallback order: the first one that has a character draws it.
FAMILIES = (
    "DejaVu Sans",
    "Noto Sans",
    "Noto Sans Arabic",
    "Noto Sans Hebrew",
    "Noto Sans CJK SC",
    "Noto Sans Thai",
    "Noto Sans Devanagari",
    "Noto Sans Bengali",
    "Noto Sans Tamil",
    "Noto Sans Telugu",
    "Noto Sans Kannada",
    "Noto Sans Malayalam",
    "Noto Sans Gujarati",
    "Noto Sans Gurmukhi",
    "Noto Sans Oriya",
    "Noto Sans Sinhala",
    "Noto Sans Georgian",
    "Noto Sans Armenian",
    "Noto Sans Ethiopic",
    "Noto Sans Khmer",
    "Noto Sans Lao",
    "Noto Sans Myanmar",
    "Noto Sans Thaana",
    "Noto Sans Syriac",
    "Noto Sans Mongolian",
    "Noto Sans Tibetan",
)


# --- Fonts -------------------------------------------------------------------------------------------


@functools.cache
def _installed() -> dict[tuple[str, bool], tuple[str, int]]:
    """(family, bold) -> (file, face index) for every font fontconfig knows (one ``fc-list``)."""
    out = subprocess.run(
        ["fc-list", "--format", "%{family}|%{style}|%{weight}|%{file}|%{index}\n"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found: dict[tuple[str, bool], tuple[str, int]] = {}
    for line in out.splitlines():
        try:
            families, style, weight, path, index = line.rsplit("|", 4)
            weight_value = int(weight.split()[0].strip("[]"))
        except ValueError:
            continue
        if "italic" in style.lower() or "oblique" in style.lower():
            continue
        bold = {80: False, 200: True}.get(weight_value)
        if bold is None or "condensed" in style.lower() or "mono" in families.lower():
            continue
        for family in families.split(","):
            found.setdefault((family.strip(), bold), (path, int(index)))
    return found


class Face:
    """One font face: HarfBuzz face and font, its character set, metrics, and what a document
    used of it (glyphs and the text each glyph stands for)."""

    def __init__(self, path: str, index: int) -> None:
        blob = hb.Blob.from_file_path(path)
        self.face = hb.Face(blob, index)
        self.font = hb.Font(self.face)
        self.upem = self.face.upem
        self.chars = frozenset(self.face.unicodes)
        self.cff = "CFF " in self.face.table_tags or "CFF2" in self.face.table_tags
        ps_name = self.face.get_name(hb.OTNameIdPredefined.POSTSCRIPT_NAME) or "Font"
        self.name = "".join(ch for ch in ps_name if ch.isalnum() or ch in "-_") or "Font"
        extents = self.font.get_font_extents("ltr")
        self.ascent = round(extents.ascender * 1000 / self.upem)
        self.descent = round(extents.descender * 1000 / self.upem)
        self.widths: dict[int, int] = {}  # glyph -> nominal advance, font units

    def advance(self, gid: int) -> int:
        width = self.widths.get(gid)
        if width is None:
            width = self.widths[gid] = self.font.get_glyph_h_advance(gid)
        return width


@functools.cache
def _face(path: str, index: int) -> Face:
    return Face(path, index)


@functools.cache
def font_stack(bold: bool) -> tuple[Face, ...]:
    """The installed faces of :data:`FAMILIES`, in order (the regular face when no bold one)."""
    installed = _installed()
    faces = []
    for family in FAMILIES:
        where = installed.get((family, bold)) or installed.get((family, False))
        if where:
            faces.append(_face(*where))
    if not faces:
        raise RuntimeError(
            "No font found for the PDF: install fonts-dejavu-core and fonts-noto-core."
        )
    return tuple(faces)


# --- Bidi ----------------------------------------------------------------------------------------------


def _isolate_directions(text: str, classes: list[str]) -> dict[int, bool]:
    """For each FSI in ``text`` (by index): is its isolate right-to-left? That is, is the first
    strong letter directly inside it (not in a nested isolate) right-to-left (Unicode bidi rule
    P2/P3). One pass with a stack of the open isolates, so the cost stays linear however many
    isolates are nested."""
    directions: dict[int, bool] = {}
    open_isolates: list[int] = []  # index of each open isolate's mark, innermost last
    for i, ch in enumerate(text):
        if ch in (FSI, LRI, RLI):
            open_isolates.append(i)
        elif ch == PDI:
            if open_isolates:
                open_isolates.pop()
        elif open_isolates and classes[i] in ("L", "R", "AL"):
            innermost = open_isolates[-1]
            if text[innermost] == FSI and innermost not in directions:
                directions[innermost] = classes[i] in _STRONG_RTL
    return directions


#: The deepest embedding level (Unicode bidi ``max_depth``); isolates nested deeper are ignored
#: (their marks are not drawn), which also bounds the reordering passes of rule L2.
MAX_DEPTH = 125


def _levels(text: str, base_level: int = 0) -> list[int]:
    """An embedding level per character (isolate marks get -1: they are not drawn).
    ``base_level``: the paragraph level, 0 (left-to-right) or 1 (right-to-left)."""
    classes = [unicodedata.bidirectional(ch) for ch in text]
    fsi_rtl = _isolate_directions(text, classes)
    levels = [0] * len(text)
    base = [0] * len(text)  # the base level of the isolate each character is in
    stack: list[int] = []
    overflow = 0  # isolates opened beyond MAX_DEPTH, whose PDI must not pop a real one
    for i, ch in enumerate(text):
        if ch in (FSI, LRI, RLI):
            rtl = fsi_rtl.get(i, False) if ch == FSI else ch == RLI
            level = stack[-1] if stack else base_level
            # The least odd (right-to-left) or even (left-to-right) level above the current one.
            new = level + 1 if (level % 2 == 0) == rtl else level + 2
            if new > MAX_DEPTH or overflow:
                overflow += 1
            else:
                stack.append(new)
            levels[i] = -1
            continue
        if ch == PDI and (overflow or stack):
            if overflow:
                overflow -= 1
            else:
                stack.pop()
            levels[i] = -1
            continue
        current = stack[-1] if stack else base_level
        base[i] = current
        cls = classes[i]
        if current % 2 == 0:  # left-to-right context: right-to-left letters go up one level
            levels[i] = current + 1 if cls in _STRONG_RTL else current
        else:  # right-to-left context: Latin letters and numbers go up one level
            levels[i] = current + 1 if cls == "L" or cls in _NUMBER else current
    # Neutrals between two characters of the same raised level take that level (rule N1).
    n = len(text)
    i = 0
    while i < n:
        if (
            levels[i] >= 0
            and levels[i] == base[i]
            and classes[i] not in ("L", "R", "AL", "EN", "AN")
        ):
            j = i
            while (
                j < n
                and levels[j] >= 0
                and levels[j] == base[j]
                and classes[j] not in ("L", "R", "AL", "EN", "AN")
            ):
                j += 1
            before = levels[i - 1] if i > 0 else -1
            after = levels[j] if j < n else -1
            if before == after and before > base[i]:
                for k in range(i, j):
                    levels[k] = before
            i = j
        else:
            i += 1
    return levels


def visual_runs(text: str, rtl: bool = False) -> list[tuple[str, bool, list[int]]]:
    """``text`` as runs in visual order: (run text, right-to-left?, index in ``text`` of each of
    its characters). Isolate marks are dropped. ``rtl``: the paragraph is right-to-left (level
    1), so its runs go from right to left and a leading bullet is drawn at the right."""
    if not rtl and not any(unicodedata.bidirectional(ch) in _STRONG_RTL for ch in text):
        kept = [i for i, ch in enumerate(text) if ch not in (FSI, LRI, RLI, PDI)]
        return [("".join(text[i] for i in kept), False, kept)] if kept else []
    levels = _levels(text, 1 if rtl else 0)
    runs: list[tuple[int, list[int]]] = []
    for i, level in enumerate(levels):
        if level < 0:
            continue
        if runs and runs[-1][0] == level:
            runs[-1][1].append(i)
        else:
            runs.append((level, [i]))
    # Rule L2: from the highest level down to the lowest odd one, reverse every sequence of runs
    # at that level or higher.
    top = max((level for level, _ in runs), default=0)
    lowest_odd = min((level for level, _ in runs if level % 2), default=top + 1)
    for level in range(top, lowest_odd - 1, -1):
        i = 0
        while i < len(runs):
            if runs[i][0] >= level:
                j = i
                while j < len(runs) and runs[j][0] >= level:
                    j += 1
                runs[i:j] = runs[i:j][::-1]
                i = j
            else:
                i += 1
    return [("".join(text[i] for i in idx), level % 2 == 1, idx) for level, idx in runs]


# --- Shaping -------------------------------------------------------------------------------------------


@dataclass
class Glyphs:
    """A shaped piece of a line in one face, in visual order; units are the face's."""

    face: Face
    gids: list[int]
    advances: list[int]
    offsets: list[tuple[int, int]]
    sources: list[int]  # index in the line's text of the cluster each glyph starts, or -1
    texts: list[str]  # what each glyph stands for ("" for a glyph continuing a cluster)


def _face_for(ch: str, stack: tuple[Face, ...], previous: Face | None) -> Face:
    cp = ord(ch)
    if previous is not None and (
        cp in previous.chars and unicodedata.category(ch) in ("Mn", "Mc", "Me", "Zs", "Cf")
    ):
        return previous  # marks and spaces stay with the letters they belong to
    for face in stack:
        if cp in face.chars:
            return face
    return previous or stack[0]


def shape(text: str, bold: bool = False, rtl: bool = False) -> list[Glyphs]:
    """``text`` as glyphs, in visual order, ready to draw from left to right. ``rtl``: ``text``
    is (a line of) a right-to-left paragraph."""
    stack = font_stack(bold)
    pieces: list[Glyphs] = []
    for run, run_rtl, index in visual_runs(text, rtl):
        # Split the run by face, in logical order.
        parts: list[tuple[Face, int, int]] = []
        previous: Face | None = None
        for k, ch in enumerate(run):
            face = _face_for(ch, stack, previous)
            if parts and parts[-1][0] is face:
                parts[-1] = (face, parts[-1][1], k + 1)
            else:
                parts.append((face, k, k + 1))
            previous = face
        if run_rtl:
            parts.reverse()
        for face, start, end in parts:
            chunk = run[start:end]
            buf = hb.Buffer()
            buf.add_codepoints([ord(ch) for ch in chunk])
            buf.guess_segment_properties()
            buf.direction = "rtl" if run_rtl else "ltr"
            hb.shape(face.font, buf, {})
            infos, positions = buf.glyph_infos, buf.glyph_positions
            clusters = [info.cluster for info in infos]
            # The text of each cluster: from its start to the next cluster start (logical order).
            starts = sorted(set(clusters))
            ends = dict(zip(starts, [*starts[1:], len(chunk)], strict=True))
            seen: set[int] = set()
            texts, sources = [], []
            for cluster in clusters:
                if cluster in seen:
                    texts.append("")
                    sources.append(-1)
                else:
                    seen.add(cluster)
                    texts.append(chunk[cluster : ends[cluster]])
                    sources.append(index[start + cluster])
            pieces.append(
                Glyphs(
                    face,
                    [info.codepoint for info in infos],
                    [p.x_advance for p in positions],
                    [(p.x_offset, p.y_offset) for p in positions],
                    sources,
                    texts,
                )
            )
    return pieces


def width(pieces: Iterable[Glyphs], size: float) -> float:
    return sum(sum(g.advances) * size / g.face.upem for g in pieces)


def _char_widths(text: str, pieces: Iterable[Glyphs], size: float) -> list[float]:
    """The width of each character of ``text`` (logical order), in points: the advances of the
    glyphs of the cluster that starts there (0 for the other characters of a cluster)."""
    per_char = [0.0] * len(text)
    for g in pieces:
        scale = size / g.face.upem
        last = -1
        for source, advance in zip(g.sources, g.advances, strict=True):
            if source >= 0:
                last = source
            if last >= 0:
                per_char[last] += advance * scale
    return per_char


# --- Line breaking ---------------------------------------------------------------------------------------

#: A line never starts with these: closing punctuation, CJK small kana, iteration and prolonged
#: sound marks (UAX #14 classes CL, CP, EX, IS, NS and the strict CJ; JIS X 4051 "gyōtō kinsoku").
NO_START = frozenset(
    "。．，、；：？！）］｝〕〉》」』】〙〗〟’”｠»・‼⁇⁈⁉ー〜～ゝゞヽヾ々〻゛゜"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
    ")]},.:;!?%‰℃…‥"
)
#: A line never ends with these: opening punctuation (UAX #14 OP, JIS X 4051 "gyōmatsu kinsoku").
NO_END = frozenset("（［｛〔〈《「『【〘〖〝‘“｟«([{＄￥＃")


def _wide(ch: str) -> bool:
    """Is ``ch`` Chinese/Japanese: an ideograph, kana, bopomofo, CJK punctuation or a fullwidth
    form (text written without spaces, breakable between any two of them)? Hangul syllables are
    not: Korean is written with spaces and broken there."""
    cp = ord(ch)
    return (
        0x2E80 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0xFE30 <= cp <= 0xFE4F
        or 0xFF00 <= cp <= 0xFFEF
        or 0x20000 <= cp <= 0x3FFFF
    )


def breakable(before: str, after: str) -> bool:
    """May a line end after ``before`` and the next start with ``after`` (two characters that
    are not spaces)? Only where one of them is Chinese/Japanese, and never before closing or
    after opening punctuation."""
    return (_wide(before) or _wide(after)) and after not in NO_START and before not in NO_END


def _last_break(text: str, start: int, limit: int) -> tuple[int, int] | None:
    """The last place to break ``text[start:]`` no later than ``limit`` (a line
    ``text[start:end]``): (end, where the next line resumes), or None. Scans back from
    ``limit``, so at most one line's length."""
    for p in range(min(limit, len(text) - 1), start, -1):
        if text[p] == " ":
            return p, p + 1
        if text[p - 1] != " " and breakable(text[p - 1], text[p]):
            return p, p
    return None


# --- Document --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    size: float = 8.0
    bold: bool = False
    leading: float = 1.3  # line height, times the size
    before: float = 0.0  # space above, points
    after: float = 0.0  # space below, points
    gray: float = 0.0  # 0 black … 1 white
    rule: bool = False  # a thin line under it
    keep_with_next: bool = False
    indent: float = 12.0  # continuation lines, points


@dataclass
class _Line:
    x: float
    y: float  # baseline
    size: float
    gray: float
    pieces: list[Glyphs]


@dataclass
class _Page:
    lines: list[_Line] = field(default_factory=list)
    rules: list[tuple[float, float, float]] = field(default_factory=list)  # x1, x2, y


def _shaped(text: str, bold: bool, rtl: bool) -> list[Glyphs]:
    # Left-to-right text is shaped as before (``shape(text, bold)``), so that wrappers of
    # :func:`shape` in tests see the same calls.
    return shape(text, bold, rtl=True) if rtl else shape(text, bold)


def cell_rtl(text: str, default: bool) -> bool:
    """The direction of a table cell, as HTML's ``dir="auto"``: that of its first strong
    letter; a cell without letters that has digits (a phone number, a count) left to right,
    else ``default`` (the table's). An English cell in an Arabic table keeps its ``+`` and
    parentheses where they belong."""
    for ch in text:
        cls = unicodedata.bidirectional(ch)
        if cls == "L":
            return False
        if cls in _STRONG_RTL:
            return True
    return False if any(ch.isdigit() for ch in text) else default


class Document:
    """Lines flowed onto A4 pages; :meth:`render` returns the PDF. ``rtl``: the document's
    paragraphs, tables and footer are right-to-left unless :meth:`add` or :meth:`table` say
    otherwise (an English paragraph in an Arabic document)."""

    def __init__(
        self,
        title: str,
        footer: str = "",
        margins: tuple[float, float, float, float] = (14 * MM, 12 * MM, 16 * MM, 12 * MM),
        *,
        rtl: bool = False,
    ) -> None:
        self.title = title
        self.footer = footer
        self.rtl = rtl
        self.top, self.right, self.bottom, self.left = margins
        self.pages: list[_Page] = [_Page()]
        self.y = A4[1] - self.top  # top of the next line
        self.measure = A4[0] - self.left - self.right

    def _room(self, height: float) -> None:
        if self.y - height < self.bottom and self.pages[-1].lines:
            self._new_page()

    def _new_page(self) -> None:
        self.pages.append(_Page())
        self.y = A4[1] - self.top

    def add(self, text: str, style: Style, *, keep: float = 0.0, rtl: bool | None = None) -> None:
        """One paragraph: ``text`` wrapped to the page width. ``keep``: height that must fit
        under it on the same page (a heading's first following line). ``rtl``: right-to-left
        paragraph (lines right-aligned, continuation lines indented from the right); the
        document's direction when not given."""
        rtl = self.rtl if rtl is None else rtl
        line_height = style.size * style.leading
        lines = self._wrap(text, style, self.measure, rtl)
        if self.pages[-1].lines:
            self.y -= style.before
        self._room(line_height * min(len(lines), 1) + keep + style.after)
        for n, pieces in enumerate(lines):
            self._room(line_height)
            baseline = self.y - style.size * (style.leading - 1) / 2 - style.size * 0.8
            indent = style.indent if n else 0.0
            if rtl:
                x = self.left + self.measure - indent - width(pieces, style.size)
            else:
                x = self.left + indent
            self.pages[-1].lines.append(_Line(x, baseline, style.size, style.gray, pieces))
            self.y -= line_height
        if style.rule:
            self.pages[-1].rules.append((self.left, A4[0] - self.right, self.y - 0.6))
        self.y -= style.after

    def _wrap(
        self, text: str, style: Style, measure: float | None = None, rtl: bool = False
    ) -> list[list[Glyphs]]:
        """``text`` in lines no wider than ``measure`` (the page's by default; continuation
        lines: minus the indent), broken at the last space or CJK break (:func:`breakable`) that
        fits, or inside a word longer than a line.

        Linear in the length of ``text``: it is shaped once to measure each character, the breaks
        are found in one pass over those widths, and each line is shaped once more (so that
        Arabic joins and kerning are right at its ends). Shaping the rest of the text again after
        each line, as this did before, made a 200,000-character name take minutes.
        """
        measure = self.measure if measure is None else measure
        pieces = _shaped(text, style.bold, rtl)
        if width(pieces, style.size) <= measure:
            return [pieces]
        per_char = _char_widths(text, pieces, style.size)
        lines: list[list[Glyphs]] = []
        available = measure
        start, n = 0, len(text)
        while start < n:
            total, i = 0.0, start
            end = resume = -1  # the last break that fits: line text[start:end], next at resume
            while i < n:
                total += per_char[i]
                if total > available:
                    break
                ch = text[i]
                if ch == " ":
                    end, resume = i, i + 1
                elif i + 1 < n:
                    after = text[i + 1]
                    # Cheap test first: only CJK text breaks between letters.
                    if (ch >= "\u2e80" or after >= "\u2e80") and after != " ":
                        if breakable(ch, after):
                            end = resume = i + 1
                i += 1
            if i == n:  # the rest fits
                lines.append(_shaped(text[start:], style.bold, rtl))
                break
            if end <= start:  # one word longer than the line: cut it where it overflows
                end = resume = max(start + 1, i)
            line, end, resume = self._fit(text, start, end, resume, available, style, rtl)
            lines.append(line)
            start = resume
            available = measure - min(style.indent, measure / 2)
        return lines

    def _fit(
        self,
        text: str,
        start: int,
        end: int,
        resume: int,
        available: float,
        style: Style,
        rtl: bool = False,
    ) -> tuple[list[Glyphs], int, int]:
        """``text[start:end]`` shaped, made shorter if, shaped on its own, it is wider than
        ``available`` (letters at a line's end can take a wider form than inside a word, e.g.
        Arabic final forms). A few tries at most, each on one line's text: this stays linear."""
        line = _shaped(text[start:end], style.bold, rtl)
        for _attempt in range(3):
            excess = width(line, style.size) - available
            if excess <= 0 or end - start <= 1:
                break
            widths = _char_widths(text[start:end], line, style.size)
            k, dropped = end - start, 0.0
            while k > 1 and dropped < excess:
                k -= 1
                dropped += widths[k]
            k = max(1, k - 1)  # and room for the new last letter's end form
            found = _last_break(text, start, start + k)
            end, resume = found if found else (start + k, start + k)
            line = _shaped(text[start:end], style.bold, rtl)
        return line, end, resume

    # --- Tables --------------------------------------------------------------------------------------

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[str]],
        *,
        style: Style = Style(size=9, leading=1.3, indent=0),
        head: Style | None = None,
        rtl: bool | None = None,
        padding: float = 3.0,
        min_width: float = 40.0,
        max_share: float = 0.6,
    ) -> None:
        """A table across the measure: a header row (``columns``, bold: ``head``, or ``style``
        in bold) repeated at the top of every page the table continues on, then ``rows``, each
        cell wrapped inside its column; thin rules above and below the header and under every
        row. ``rtl``: the first column is at the right. Each cell takes its own direction
        (:func:`cell_rtl`) and is aligned to its start.

        Column widths come from the content: each column's widest cell on one line, bounded by
        ``min_width`` (or an equal share when there are too many columns) and ``max_share`` of
        the measure, then scaled to the measure (room left over goes first to the columns whose
        cells wrap). A row that fits on a page is never split; a row taller than a page is,
        between its lines."""
        rtl = self.rtl if rtl is None else rtl
        head = head or replace(style, bold=True)
        header = [str(c) for c in columns]
        body = [[str(c) for c in row] for row in rows]
        count = max([len(header), *(len(row) for row in body)], default=0)
        if count == 0:
            return
        if header:
            header += [""] * (count - len(header))
        body = [row + [""] * (count - len(row)) for row in body]
        widths = self._column_widths(header, body, style, head, rtl, padding, min_width, max_share)
        edges = []  # left edge of each column
        x = self.left + self.measure if rtl else self.left
        for w in widths:
            if rtl:
                x -= w
                edges.append(x)
            else:
                edges.append(x)
                x += w
        x1, x2 = min(edges), max(e + w for e, w in zip(edges, widths, strict=True))

        def cells(row: list[str], st: Style) -> list[tuple[bool, list[list[Glyphs]]]]:
            out = []
            for cell, w in zip(row, widths, strict=True):
                direction = cell_rtl(cell, rtl)
                lines = self._wrap(cell, st, w - 2 * padding, direction) if cell.strip() else []
                out.append((direction, lines))
            return out

        def height(lines: list[tuple[bool, list[list[Glyphs]]]], st: Style) -> float:
            return max(1, *(len(c) for _d, c in lines)) * st.size * st.leading + 2 * padding

        head_lines = cells(header, head) if header else []
        head_height = height(head_lines, head) if header else 0.0

        def draw_header() -> None:
            self.pages[-1].rules.append((x1, x2, self.y))
            if header:
                self._draw_row(head_lines, 0, None, head, edges, widths, padding)
                self.y -= head_height
                self.pages[-1].rules.append((x1, x2, self.y))

        if self.pages[-1].lines:
            self.y -= head.before
        first = cells(body[0], style) if body else []
        self._room(head_height + (height(first, style) if body else 0.0))
        draw_header()
        page_room = A4[1] - self.top - self.bottom - head_height
        line_height = style.size * style.leading
        for n, row in enumerate(body):
            lines = first if n == 0 else cells(row, style)
            needed = height(lines, style)
            if self.y - needed < self.bottom and needed <= page_room:
                self._new_page()
                draw_header()
            total = max(1, *(len(c) for _d, c in lines))
            done, fresh = 0, False
            while done < total:  # once, unless the row is taller than a page
                fit = int((self.y - self.bottom - 2 * padding + 0.01) // line_height)
                if fit < 1 and not fresh:
                    self._new_page()
                    draw_header()
                    fresh = True  # a header taller than a page: one line a page, not forever
                    continue
                take = min(max(fit, 1), total - done)
                fresh = False
                self._draw_row(lines, done, done + take, style, edges, widths, padding)
                self.y -= take * line_height + 2 * padding
                self.pages[-1].rules.append((x1, x2, self.y))
                done += take
        self.y -= style.after

    def _column_widths(
        self,
        header: list[str],
        body: list[list[str]],
        style: Style,
        head: Style,
        rtl: bool,
        padding: float,
        min_width: float,
        max_share: float,
    ) -> list[float]:
        count = len(body[0]) if body else len(header)
        natural = [0.0] * count  # the widest cell on one line
        longest = [0.0] * count  # the widest word (what cannot be broken)
        for row, st in [(header, head), *((row, style) for row in body)]:
            for c, cell in enumerate(row):
                if not cell.strip():
                    continue
                pieces = _shaped(cell, st.bold, cell_rtl(cell, rtl))
                natural[c] = max(natural[c], width(pieces, st.size) + 2 * padding)
                word = 0.0
                for k, w in enumerate(_char_widths(cell, pieces, st.size)):
                    if cell[k] == " " or (k and breakable(cell[k - 1], cell[k])):
                        word = 0.0
                    word += 0.0 if cell[k] == " " else w
                    longest[c] = max(longest[c], word + 2 * padding)
        room = self.measure
        low = min(min_width, room / count)
        high = max(low, room * max_share)
        floor = [min(max(w, low), high) for w in longest]
        if sum(floor) > room:  # words too long for any layout: they will be cut
            floor = [low] * count
        wanted = [min(max(w, f), high) for w, f in zip(natural, floor, strict=True)]
        total = sum(wanted)
        if total > room:  # shrink what is above each column's floor, in proportion
            above = total - sum(floor)
            scale = (room - sum(floor)) / above if above else 0.0
            return [f + (w - f) * scale for w, f in zip(wanted, floor, strict=True)]
        spare = room - total
        short = [max(0.0, n - w) for n, w in zip(natural, wanted, strict=True)]
        need = sum(short)
        if need > 0:  # first to the columns that would wrap
            give = min(spare, need)
            wanted = [w + give * s / need for w, s in zip(wanted, short, strict=True)]
            spare -= give
        if spare > 0:
            total = sum(wanted)
            wanted = [w + spare * w / total for w in wanted]
        return wanted

    def _draw_row(
        self,
        lines: list[tuple[bool, list[list[Glyphs]]]],
        first: int,
        last: int | None,
        style: Style,
        edges: list[float],
        widths: list[float],
        padding: float,
    ) -> None:
        """Lines ``first:last`` of every cell of a row, the row's top at ``self.y``; each cell
        aligned to the start of its own direction."""
        line_height = style.size * style.leading
        top = self.y - padding - style.size * (style.leading - 1) / 2 - style.size * 0.8
        indent = min(style.indent, (min(widths) - 2 * padding) / 2)
        for (rtl, cell), left, w in zip(lines, edges, widths, strict=True):
            for k, pieces in enumerate(cell[first:last]):
                n = first + k
                shift = indent if n else 0.0
                if rtl:
                    x = left + w - padding - shift - width(pieces, style.size)
                else:
                    x = left + padding + shift
                line = _Line(x, top - k * line_height, style.size, style.gray, pieces)
                self.pages[-1].lines.append(line)

    # --- PDF output ----------------------------------------------------------------------------------

    def render(self) -> bytes:
        footer_style = 7.0
        pages = self.pages
        footers = [
            _shaped(self.footer.format(page=n, pages=len(pages)), False, self.rtl)
            if self.footer
            else []
            for n in range(1, len(pages) + 1)
        ]
        for page, pieces in zip(pages, footers, strict=True):
            if pieces:
                x = (A4[0] - width(pieces, footer_style)) / 2
                page.lines.append(_Line(x, self.bottom / 2, footer_style, 0.33, pieces))
        faces: dict[int, Face] = {}
        used: dict[int, dict[int, str]] = {}  # face id -> glyph -> text
        for page in pages:
            for line in page.lines:
                for g in line.pieces:
                    faces[id(g.face)] = g.face
                    glyphs = used.setdefault(id(g.face), {0: ""})
                    for gid, text in zip(g.gids, g.texts, strict=True):
                        if not glyphs.get(gid):  # the first text a glyph stands for
                            glyphs[gid] = text
        writer = _Writer()
        font_refs: dict[int, tuple[str, int, dict[int, int]]] = {}
        for n, (key, face) in enumerate(faces.items()):
            resource = f"F{n + 1}"
            ref, mapping = writer.font(face, used[key])
            font_refs[key] = (resource, ref, mapping)
        page_refs = []
        pages_ref = writer.reserve()
        font_dict = " ".join(f"/{name} {ref} 0 R" for name, ref, _m in font_refs.values())
        for page in pages:
            content = _content(page, font_refs)
            stream = writer.stream(content)
            page_refs.append(
                writer.add(
                    f"<< /Type /Page /Parent {pages_ref} 0 R /MediaBox [0 0 {A4[0]} {A4[1]}] "
                    f"/Resources << /Font << {font_dict} >> >> /Contents {stream} 0 R >>".encode()
                )
            )
        kids = " ".join(f"{ref} 0 R" for ref in page_refs)
        writer.set(pages_ref, f"<< /Type /Pages /Kids [{kids}] /Count {len(page_refs)} >>".encode())
        catalog = writer.add(f"<< /Type /Catalog /Pages {pages_ref} 0 R >>".encode())
        info = writer.add(b"<< /Title " + _pdf_text(self.title) + b" /Producer (tldops) >>")
        return writer.output(catalog, info)


def _pdf_text(text: str) -> bytes:
    return b"<feff" + text.encode("utf-16-be").hex().encode() + b">"


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def _content(page: _Page, fonts: dict[int, tuple[str, int, dict[int, int]]]) -> bytes:
    out: list[str] = []
    for x1, x2, y in page.rules:
        out.append(f"0.533 G 0.4 w {_num(x1)} {_num(y)} m {_num(x2)} {_num(y)} l S")
    out.append("BT")
    for line in page.lines:
        out.append(f"{_num(line.gray)} g")
        x = line.x
        for g in line.pieces:
            name, _ref, mapping = fonts[id(g.face)]
            scale = line.size / g.face.upem
            out.append(f"/{name} {_num(line.size)} Tf 1 0 0 1 {_num(x)} {_num(line.y)} Tm")
            tj: list[str] = []
            for gid, advance, (dx, dy) in zip(g.gids, g.advances, g.offsets, strict=True):
                new = mapping.get(gid, 0)
                if dx or dy:
                    if tj:
                        out.append(f"[{''.join(tj)}] TJ")
                        tj = []
                    out.append(
                        f"1 0 0 1 {_num(x + dx * scale)} {_num(line.y + dy * scale)} Tm "
                        f"<{new:04x}> Tj 1 0 0 1 {_num(x + advance * scale)} {_num(line.y)} Tm"
                    )
                else:
                    tj.append(f"<{new:04x}>")
                    nominal = g.face.advance(gid)
                    if nominal != advance:
                        tj.append(_num((nominal - advance) * 1000 / g.face.upem))
                x += advance * scale
            if tj:
                out.append(f"[{''.join(tj)}] TJ")
    out.append("ET")
    return "\n".join(out).encode()


class _Writer:
    """The PDF file: numbered objects, then the cross-reference table."""

    def __init__(self) -> None:
        self.objects: list[bytes | None] = []

    def reserve(self) -> int:
        self.objects.append(None)
        return len(self.objects)

    def set(self, ref: int, body: bytes) -> None:
        self.objects[ref - 1] = body

    def add(self, body: bytes) -> int:
        self.objects.append(body)
        return len(self.objects)

    def stream(self, data: bytes, extra: str = "", compress: bool = True) -> int:
        if compress:
            data = zlib.compress(data, 6)
            extra += " /Filter /FlateDecode"
        return self.add(
            f"<< /Length {len(data)}{extra} >>\nstream\n".encode() + data + b"\nendstream"
        )

    def font(self, face: Face, glyphs: dict[int, str]) -> tuple[int, dict[int, int]]:
        """Embed the subset of ``face`` with ``glyphs``; (Type0 font object, old -> new glyph)."""
        old = sorted(glyphs)
        inp = hb.SubsetInput()
        inp.glyph_set.update(old)
        flags = hb.SubsetFlags.DESUBROUTINIZE | hb.SubsetFlags.NO_HINTING
        if face.cff:
            flags |= hb.SubsetFlags.CFF_IDENTITY_CHARSET
        inp.flags = flags
        for tag in ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "DSIG", "kern", "vhea", "vmtx", "VORG"):
            inp.drop_table_tag_set.add(int.from_bytes(tag.encode(), "big"))
        plan = hb.SubsetPlan(face.face, inp)
        subset = plan.execute()
        if subset is not None:
            data = subset.blob.data
            mapping = dict(plan.old_to_new_glyph_mapping)
        else:  # cannot subset: embed the whole face
            data, mapping = face.face.blob.data, {gid: gid for gid in old}
        tag = "".join(
            chr(65 + (abs(hash((face.name, len(old)))) >> (4 * k)) % 26) for k in range(6)
        )
        base = f"{tag}+{face.name}"
        if face.cff:
            file_ref = self.stream(data, " /Subtype /OpenType")
            file_key, cid_type = "FontFile3", 0
        else:
            file_ref = self.stream(data, f" /Length1 {len(data)}")
            file_key, cid_type = "FontFile2", 2
        scale = 1000 / face.upem
        widths = [f"{mapping[g]} [{round(face.advance(g) * scale)}]" for g in old]
        descriptor = self.add(
            (
                f"<< /Type /FontDescriptor /FontName /{base} /Flags 4 "
                f"/FontBBox [0 {face.descent} 1000 {face.ascent}] /ItalicAngle 0 "
                f"/Ascent {face.ascent} /Descent {face.descent} /CapHeight {face.ascent} "
                f"/StemV 80 /{file_key} {file_ref} 0 R >>"
            ).encode()
        )
        cid_font = self.add(
            (
                f"<< /Type /Font /Subtype /CIDFontType{cid_type} /BaseFont /{base} "
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                f"/FontDescriptor {descriptor} 0 R /W [{' '.join(widths)}]"
                + (" /CIDToGIDMap /Identity" if cid_type == 2 else "")
                + " >>"
            ).encode()
        )
        entries = [
            f"<{mapping[g]:04x}> <{text.encode('utf-16-be').hex()}>"
            for g, text in glyphs.items()
            if text
        ]
        cmap = [
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
            "1 begincodespacerange <0000> <ffff> endcodespacerange",
        ]
        for i in range(0, len(entries), 100):
            batch = entries[i : i + 100]
            cmap += [f"{len(batch)} beginbfchar", *batch, "endbfchar"]
        cmap += ["endcmap CMapName currentdict /CMap defineresource pop end end"]
        to_unicode = self.stream("\n".join(cmap).encode())
        ref = self.add(
            (
                f"<< /Type /Font /Subtype /Type0 /BaseFont /{base} /Encoding /Identity-H "
                f"/DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"
            ).encode()
        )
        return ref, mapping

    def output(self, catalog: int, info: int) -> bytes:
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for n, body in enumerate(self.objects, start=1):
            offsets.append(len(out))
            out += f"{n} 0 obj\n".encode() + (body or b"null") + b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(self.objects) + 1}\n0000000000 65535 f \n".encode()
        out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
        out += (
            f"trailer\n<< /Size {len(self.objects) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n"
        ).encode()
        return bytes(out)
