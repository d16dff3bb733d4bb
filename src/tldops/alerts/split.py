"""Splitting a list of domain names by ccTLD: a DGA's output or a phishing feed, one name a line.

An alert may carry millions of names; each affected ccTLD gets only its own slice, and the same
splitter is ``tldops alert split`` for members' own files. The rules (docs/alerts.md):

- A line is stripped of white space; a blank line, or one starting with ``#``, is skipped (feeds
  carry comments and blank separators; they are neither names nor mistakes).
- A name is lower-cased, loses one trailing dot, and a name with non-ASCII characters is mapped
  and encoded by UTS 46 / IDNA 2008 (``idna``), label by label, so ``пример.РФ`` is
  ``xn--e1afmkfd.xn--p1ai``.
- It is invalid — reported by its 1-based line number and not counted — when, IDNA-encoded, it has
  an empty label, a label over 63 octets, a label starting or ending with a hyphen, a character
  other than a letter, digit or hyphen, is over 253 octets, is not UTF-8, or is a bare IP address:
  an IPv6 address has colons, and a name whose last label is all digits (``192.0.2.1``, ``127.1``)
  is what resolvers read as an IPv4 address (no TLD is all digits).
- The ccTLD is the last label (``example.co.uk`` belongs to ``uk``), looked up among the catalog's
  delegated ccTLDs by A-label; a valid name under any other last label (``.com``, ``.org``, an
  unknown one) is set aside and counted as ``not_cctld``.

Speed (1,000,000 names in well under a second, docs/benchmarks.md): the file is read in chunks of a
few MiB, never whole. Each chunk is lower-cased at once (``bytes.lower`` touches ASCII only) and
one compiled pattern, in one ``findall``, returns for every line either its last label — the line is
a valid ASCII name — or nothing; a ``Counter`` counts the labels. Only the lines the pattern left
(non-ASCII, white space, comments, invalid ones: a few percent) go through Python line by line, and
only those with non-ASCII characters through ``idna`` (with a cache of labels: the TLD ``рф`` is
encoded once).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import idna
import idna.idnadata
import idna.intranges

from tldops import csvcells
from tldops.alerts.tlp import Tlp

#: Bytes read at a time: large enough that the per-chunk work is negligible, small enough that
#: memory stays flat whatever the file's size.
CHUNK = 4 * 1024 * 1024
#: Invalid line numbers kept in a result; ``invalid`` counts them all.
MAX_INVALID_LINES = 10_000
#: Labels whose IDNA encoding is remembered (the cache is emptied when full).
LABEL_CACHE = 50_000

_LABEL = rb"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
#: One line of a lower-cased chunk: a valid ASCII name (at most 253 octets plus a trailing dot, last
#: label not all digits) gives its last label in group 1; any other line gives nothing (group 1
#: empty) and is looked at in Python. ``[^\n]*`` eats the rest of the line, so there is exactly one
#: match a line, in order (empty lines included).
_FAST = re.compile(
    rb"^(?:(?![^\n]{254})(?:" + _LABEL + rb"\.)*(?![0-9]+\.?\r?$)(" + _LABEL + rb")\.?\r?$)?[^\n]*",
    re.MULTILINE,
)
#: The same with the whole name (without its trailing dot) in group 1, when slices are written.
_FAST_NAMES = re.compile(
    rb"^(?:(?![^\n]{254})((?:"
    + _LABEL
    + rb"\.)*(?![0-9]+\.?\r?$)("
    + _LABEL
    + rb"))\.?\r?$)?[^\n]*",
    re.MULTILINE,
)
#: A whole normalised (ASCII) name, for the lines the fast pattern left.
_NAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DIGITS = re.compile(r"[0-9]+")

SKIP = ""  # _slow_line's answer for a blank or comment line
INVALID = None  # … for an invalid one


@dataclass
class SplitResult:
    """What a split found. ``counts`` maps each ccTLD's A-label to its number of names;
    ``invalid_lines`` holds the first :data:`MAX_INVALID_LINES` invalid line numbers (1-based),
    ``invalid`` counts them all."""

    counts: dict[str, int] = field(default_factory=dict)
    not_cctld: int = 0
    invalid: int = 0
    invalid_lines: list[int] = field(default_factory=list)
    lines: int = 0
    files: dict[str, Path] = field(default_factory=dict)

    def as_json(self) -> dict:
        """The object ``tldops alert split --format json`` prints, and nothing more."""
        return {
            "counts": dict(sorted(self.counts.items())),
            "not_cctld": self.not_cctld,
            "invalid": self.invalid,
            "invalid_lines": list(self.invalid_lines),
        }


def cctld_index() -> dict[str, str]:
    """Every delegated ccTLD of the catalog by A-label and by case-folded U-label, to its A-label
    (``{"xn--p1ai": "xn--p1ai", "рф": "xn--p1ai", "fr": "fr", …}``): one query, once per split."""
    from tldops.catalog.models import Tld  # lazy: the splitter's pure part loads without Django

    index: dict[str, str] = {}
    for alabel, ulabel in Tld.objects.delegated().values_list("alabel", "ulabel"):
        index[alabel.casefold()] = alabel
        if ulabel:
            index[ulabel.casefold()] = alabel
    return index


def read_chunks(stream: IO[bytes] | IO[str], size: int = CHUNK) -> Iterator[bytes]:
    """``stream`` (binary, or text: encoded as UTF-8) in pieces of about ``size`` bytes."""
    while True:
        piece = stream.read(size)
        if not piece:
            return
        yield piece.encode("utf-8", "surrogateescape") if isinstance(piece, str) else piece


def split(
    source: IO[bytes] | IO[str] | Iterable[bytes],
    cctlds: Mapping[str, str] | None = None,
    *,
    out_dir: Path | None = None,
    tlp: Tlp | None = None,
    max_invalid_lines: int = MAX_INVALID_LINES,
) -> SplitResult:
    """Split the names in ``source`` (a binary or text stream, or an iterable of byte chunks cut
    anywhere) by ccTLD. ``cctlds`` is :func:`cctld_index`'s mapping (read from the catalog when not
    given). With ``out_dir``, one ``<A-label>.csv`` a ccTLD is written there as the names come
    (see :class:`_Slices`), its first line ``# TLP:…`` when ``tlp`` is given."""
    if cctlds is None:
        cctlds = cctld_index()
    chunks = read_chunks(source) if hasattr(source, "read") else source
    splitter = _Splitter(cctlds, max_invalid_lines)
    slices = _Slices(Path(out_dir), tlp) if out_dir is not None else None
    try:
        splitter.run(chunks, slices)
    finally:
        if slices is not None:
            slices.close()
    result = splitter.result
    if slices is not None:
        result.files = dict(sorted(slices.paths.items()))
    return result


class _Slices:
    """The per-ccTLD CSV files of a split, each opened when its first name comes.

    Each is ``<A-label>.csv``: with a TLP label, a first line ``# TLP:AMBER`` (the marking travels
    with the file; CSV readers are told to skip it, as threat feeds do), then the header ``domain``
    and one normalised name a row, through :mod:`tldops.csvcells` like every CSV of tldops."""

    def __init__(self, out_dir: Path, tlp: Tlp | None) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir, self.tlp = out_dir, tlp
        self.paths: dict[str, Path] = {}
        self._files: dict[str, tuple[IO[str], csvcells.Writer]] = {}

    def write(self, alabel: str, names: list[str]) -> None:
        entry = self._files.get(alabel)
        if entry is None:
            path = self.out_dir / f"{alabel}.csv"
            handle = path.open("w", encoding="utf-8", newline="")
            if self.tlp is not None:
                handle.write(f"# {self.tlp.tag}\r\n")
            writer = csvcells.writer(handle)
            writer.writerow(["domain"])
            entry = self._files[alabel] = (handle, writer)
            self.paths[alabel] = path
        for name in names:
            entry[1].writerow((name,))

    def close(self) -> None:
        for handle, _writer in self._files.values():
            handle.close()


class _Splitter:
    def __init__(self, cctlds: Mapping[str, str], max_invalid_lines: int) -> None:
        self.cctlds = dict(cctlds)
        self.by_label = {k.encode("ascii"): v for k, v in cctlds.items() if k.isascii()}
        self.max_invalid_lines = max_invalid_lines
        self.result = SplitResult()
        self.tally: Counter[bytes] = Counter()
        self.labels: dict[str, str | None] = {}

    def run(self, chunks: Iterable[bytes], slices: _Slices | None) -> None:
        rest = b""
        line = 1  # the number of the first line of the next block
        for chunk in chunks:
            data = rest + chunk if rest else chunk
            end = data.rfind(b"\n")
            if end < 0:
                rest = data
                continue
            rest = data[end + 1 :]
            line = self._block(data[:end], line, slices)
        if rest:
            line = self._block(rest, line, slices)
        self.result.lines = line - 1
        counts: Counter[str] = Counter()
        for label, n in self.tally.items():
            alabel = self.by_label.get(label)
            if alabel is None:
                self.result.not_cctld += n
            else:
                counts[alabel] += n
        self.result.counts = dict(counts)

    def _block(self, block: bytes, first: int, slices: _Slices | None) -> int:
        """Count the lines of ``block`` (whole lines, without the last newline), the first of
        which is line ``first``; returns the number of the line after it."""
        low = block.lower()
        if slices is None:
            found = _FAST.findall(low)
        else:
            pairs = _FAST_NAMES.findall(low)
            found = [tld for _name, tld in pairs]
            groups: dict[str, list[str]] = {}
            for name, tld in pairs:
                alabel = self.by_label.get(tld)
                if alabel is not None:
                    groups.setdefault(alabel, []).append(name.decode("ascii"))
            for alabel, names in groups.items():
                slices.write(alabel, names)
        self.tally.update(found)
        left = self.tally.pop(b"", 0)  # the lines the pattern did not take
        if left:
            lines = low.split(b"\n")
            index = -1
            for _ in range(left):
                index = found.index(b"", index + 1)
                self._slow(lines[index], first + index, slices)
        return first + len(found)

    def _slow(self, raw: bytes, number: int, slices: _Slices | None) -> None:
        name = self.normalise(raw)
        if name == SKIP:
            return
        if name is INVALID:
            result = self.result
            result.invalid += 1
            if len(result.invalid_lines) < self.max_invalid_lines:
                result.invalid_lines.append(number)
            return
        tld = name.rpartition(".")[2].encode("ascii")
        self.tally[tld] += 1
        if slices is not None and tld in self.by_label:
            slices.write(self.by_label[tld], [name])

    def normalise(self, raw: bytes) -> str | None:
        """One line → its normalised ASCII name, :data:`SKIP` or :data:`INVALID`."""
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            return INVALID
        if not text or text.startswith("#"):
            return SKIP
        if text.isascii():
            name = text.lower()
            name = name[:-1] if name.endswith(".") else name
        else:
            name = self._encode(text)
            if name is None:
                return INVALID
        if len(name) > 253 or not _NAME.fullmatch(name):
            return INVALID
        if _DIGITS.fullmatch(name.rpartition(".")[2]):
            return INVALID
        return name

    def _encode(self, text: str) -> str | None:
        """A name with non-ASCII characters → its ASCII form by UTS 46 (mapping, one trailing
        dot off) and IDNA 2008 (each non-ASCII label to its A-label), or ``None``.

        Most such names are written in one script whose letters need nothing but lower-casing
        (:func:`_simple`): for those, ``str.lower`` *is* the UTS 46 mapping and the label checks
        reduce to the hyphen rules, so only Punycode is left (:func:`punycode`, with a cache).
        Any other name goes through ``idna`` whole."""
        if not _SIMPLE.issuperset(text) and not _learn(text):
            return _idna(text)
        mapped = text.lower()
        if not unicodedata.is_normalized("NFC", mapped):
            return _idna(text)
        mapped = mapped[:-1] if mapped.endswith(".") else mapped
        labels = mapped.split(".")
        cache = self.labels
        for i, label in enumerate(labels):
            if label.isascii():
                continue
            alabel = cache.get(label)
            if alabel is None:
                if label[0] == "-" or label[-1] == "-" or label[2:4] == "--":
                    return None
                alabel = "xn--" + punycode(label)
                if len(cache) >= LABEL_CACHE:
                    cache.clear()
                cache[label] = alabel
            labels[i] = alabel
        return ".".join(labels)


#: Characters whose UTS 46 mapping is ``str.lower`` and that IDNA 2008 takes in any position of
#: a label without a further rule (see :func:`_simple`): ASCII letters, digits, hyphen and dot to
#: start with, then learnt as names bring them.
_SIMPLE: set[str] = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
_NOT_SIMPLE: set[str] = set()
_PVALID = idna.idnadata.codepoint_classes["PVALID"]


def _simple(char: str) -> bool:
    """Whether ``char`` (not ASCII) needs nothing but ``str.lower`` and Punycode: UTS 46 keeps
    it or maps it to its lower case (one character, itself valid), and that character is PVALID
    in IDNA 2008 (no contextual rule), left-to-right (no Bidi Rule: a name with an ``R``, ``AL``
    or ``AN`` character is a bidi domain name) and not a combining mark (no rule on the first
    character of a label). Capital sigma is excluded: ``str.lower`` makes it final ``ς`` at a
    word's end, UTS 46 always ``σ``."""
    if char == "\u03a3":
        return False
    try:
        mapped = idna.uts46_remap(char, std3_rules=False)
    except idna.IDNAError:
        return False
    if len(mapped) != 1 or mapped != char.lower() or mapped.isascii():
        return False
    return (
        idna.intranges.intranges_contain(ord(mapped), _PVALID)
        and unicodedata.bidirectional(mapped) == "L"
        and not unicodedata.category(mapped).startswith("M")
        and (mapped == char or idna.uts46_remap(mapped, std3_rules=False) == mapped)
    )


def _learn(text: str) -> bool:
    """Sort the characters of ``text`` not seen yet into simple or not; whether all are simple."""
    for char in set(text) - _SIMPLE:
        if char in _NOT_SIMPLE:
            return False
        (_SIMPLE if _simple(char) else _NOT_SIMPLE).add(char)
    return _SIMPLE.issuperset(text)


def _idna(text: str) -> str | None:
    """The whole of UTS 46 and IDNA 2008 (``idna``), for names with other characters: ASCII
    labels are left to the splitter's own checks, so that they are judged the same in every
    name."""
    try:
        mapped = idna.uts46_remap(text, std3_rules=False)
    except idna.IDNAError:
        return None
    mapped = mapped[:-1] if mapped.endswith(".") else mapped
    labels = mapped.split(".")
    for i, label in enumerate(labels):
        if not label.isascii():
            try:
                labels[i] = idna.alabel(label).decode("ascii")
            except (idna.IDNAError, UnicodeError):
                return None
    return ".".join(labels)


_BASE, _TMIN, _TMAX, _SKEW, _DAMP = 36, 1, 26, 38, 700
_DIGIT = "abcdefghijklmnopqrstuvwxyz0123456789"


def _adapt(delta: int, points: int, first: bool) -> int:
    delta = delta // _DAMP if first else delta // 2
    delta += delta // points
    k = 0
    while delta > 455:  # ((BASE - TMIN) * TMAX) // 2
        delta //= 35
        k += _BASE
    return k + (36 * delta) // (delta + _SKEW)


def punycode(label: str) -> str:
    """RFC 3492's encoding of ``label`` (without ``xn--``): the same as ``label.encode(
    "punycode")``, several times faster on the short labels of domain names (the standard
    library's encoder scans the label once per character and costs about 20 µs a label)."""
    codes = [ord(c) for c in label]
    out = [c for c in label if c < "\x80"]
    basic = len(out)
    if basic:
        out.append("-")
    n, delta, bias, handled = 128, 0, 72, basic
    for m in sorted({c for c in codes if c >= 128}):
        delta += (m - n) * (handled + 1)
        n = m
        for c in codes:
            if c < n:
                delta += 1
            elif c == n:
                q, k = delta, _BASE
                while True:
                    t = k - bias
                    t = _TMIN if t < _TMIN else _TMAX if t > _TMAX else t
                    if q < t:
                        break
                    out.append(_DIGIT[t + (q - t) % (_BASE - t)])
                    q = (q - t) // (_BASE - t)
                    k += _BASE
                out.append(_DIGIT[q])
                bias = _adapt(delta, handled + 1, handled == basic)
                delta = 0
                handled += 1
        delta += 1
        n += 1
    return "".join(out)


def normalise(line: str | bytes) -> str | None:
    """One name as the splitter reads it: its normalised ASCII form, ``""`` for a blank or
    comment line, ``None`` when invalid (see the module for the rules)."""
    raw = line.encode("utf-8", "surrogateescape") if isinstance(line, str) else line
    return _Splitter({}, 0).normalise(raw)


def cctld_of(name: str, cctlds: Mapping[str, str]) -> str | None:
    """The A-label of the ccTLD a normalised name belongs to, or ``None`` (a gTLD, unknown)."""
    return cctlds.get(name.rpartition(".")[2])


__all__ = [
    "CHUNK",
    "MAX_INVALID_LINES",
    "SplitResult",
    "cctld_index",
    "cctld_of",
    "normalise",
    "read_chunks",
    "split",
]
