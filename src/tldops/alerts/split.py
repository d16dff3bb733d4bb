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

Speed (docs/benchmarks.md: 1,000,000 names take about 0.75 s of CPU, 0.4 s on two CPUs): the
file is read a MiB at a time, never whole. Each chunk is lower-cased at once (``bytes.lower``
touches ASCII only) and one compiled pattern, in one ``findall``, returns for every line either its
last label — the line is a valid ASCII name — or nothing; a ``Counter`` counts the labels. Only the
lines the pattern left (non-ASCII, white space, comments, invalid ones: a few percent) go through
Python, and back through the same pattern once normalised, so that one pattern judges every
name. Names in scripts that need only lower-casing skip ``idna`` (:func:`_simple`,
:func:`punycode`); encoded labels are cached (``рф`` is encoded once). A big file may be counted
by several processes (:func:`split`'s ``workers``).
"""

from __future__ import annotations

import io
import math
import os
import pickle
import re
import stat
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
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
CHUNK = 1024 * 1024
#: Bytes of one line kept at most while waiting for its end; a longer line is invalid anyway
#: (a name has at most 253 octets), and is skipped to its newline without being kept.
MAX_LINE = 64 * 1024
#: Invalid line numbers kept in a result; ``invalid`` counts them all.
MAX_INVALID_LINES = 10_000
#: Labels whose IDNA encoding is remembered (the cache is emptied when full).
LABEL_CACHE = 50_000

#: One line of a lower-cased chunk. A valid ASCII name — at most 253 octets (a look-ahead, before
#: an optional trailing dot and CR), labels of 1 to 63 letters, digits and
#: hyphens, none at a label's ends — gives its last label in group 1; any other line gives
#: nothing (group 1 empty) and is looked at in Python. Possessive repeats never backtrack; a
#: label's last character is checked by a look-behind, cheaper than a pattern that backtracks;
#: a dot is a separator only when a label follows (else it is the trailing dot).
#: The second alternative eats the line the first did not take, so there is exactly one match a
#: line, in order (empty lines included). A last label of digits only (``192.0.2.1``) is left to
#: Python too, which finds it invalid.
_LDH = rb"[a-z0-9][a-z0-9-]{0,62}+(?<!-)"
_FAST = re.compile(
    rb"^(?=[^\n]{0,253}\.?\r?$)(?:"
    + _LDH
    + rb"\.(?=[a-z0-9]))*+(?![0-9]++\.?+\r?+$)("
    + _LDH
    + rb")\.?+\r?+$|^[^\n]*",
    re.MULTILINE,
)
#: The same with the whole name (without its trailing dot) in group 1, when slices are written.
_FAST_NAMES = re.compile(
    rb"^(?=[^\n]{0,253}\.?\r?$)((?:"
    + _LDH
    + rb"\.(?=[a-z0-9]))*+(?![0-9]++\.?+\r?+$)("
    + _LDH
    + rb"))\.?+\r?+$|^[^\n]*",
    re.MULTILINE,
)


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


#: Wraps the chunks of a split to show progress: ``(chunks, number of chunks) → chunks``.
Progress = Callable[[Iterable[bytes], int], Iterable[bytes]]


def split(
    source: IO[bytes] | IO[str] | Iterable[bytes],
    cctlds: Mapping[str, str] | None = None,
    *,
    out_dir: Path | None = None,
    tlp: Tlp | None = None,
    max_invalid_lines: int = MAX_INVALID_LINES,
    workers: int = 1,
    progress: Progress | None = None,
) -> SplitResult:
    """Split the names in ``source`` (a binary or text stream, or an iterable of byte chunks cut
    anywhere) by ccTLD. ``cctlds`` is :func:`cctld_index`'s mapping (read from the catalog when not
    given). With ``out_dir``, one ``<A-label>.csv`` a ccTLD is written there as the names come
    (see :class:`_Slices`), its first line ``# TLP:…`` when ``tlp`` is given.

    With ``workers`` other than 1 (0: one per CPU, at most :data:`MAX_WORKERS`), a regular file
    of :data:`PARALLEL_FROM` bytes or more, without ``out_dir``, is split by that many processes,
    each counting one part of the file (:func:`_split_parallel`). Only a single-threaded process
    may fork safely: ``tldops alert split`` asks for it; the default keeps to this process, as a
    web or mail worker must."""
    if cctlds is None:
        cctlds = cctld_index()
    splitter = _Splitter(cctlds, max_invalid_lines)
    if workers != 1 and out_dir is None and hasattr(source, "read"):
        count = workers or min(os.cpu_count() or 1, MAX_WORKERS)
        parts = _parts(source, count * PARTS_PER_WORKER)  # type: ignore[arg-type]
        if count > 1 and len(parts) > 1:
            fd = source.fileno()  # type: ignore[union-attr]
            _split_parallel(splitter, fd, parts, min(count, len(parts)), progress)
            return splitter.finish()
    chunks = read_chunks(source) if hasattr(source, "read") else source  # type: ignore[arg-type]
    if progress is not None and hasattr(source, "fileno"):
        size = _regular_size(source)  # type: ignore[arg-type]
        if size:
            chunks = progress(chunks, math.ceil(size / CHUNK))
    slices = _Slices(Path(out_dir), tlp) if out_dir is not None else None
    try:
        splitter.result.lines = splitter.feed(chunks, slices)
    finally:
        if slices is not None:
            slices.close()
    result = splitter.finish()
    if slices is not None:
        result.files = dict(sorted(slices.paths.items()))
    return result


#: The smallest file split by several processes: below it, starting them costs more than it saves.
PARALLEL_FROM = 8 * 1024 * 1024
#: Processes at most for one split.
MAX_WORKERS = 4


def _regular_size(stream: IO[bytes]) -> int:
    """The size of the regular file ``stream`` reads (0 for a pipe, a terminal, a buffer)."""
    try:
        info = os.fstat(stream.fileno())
    except (AttributeError, OSError, io.UnsupportedOperation):
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def _parts(stream: IO[bytes], count: int) -> list[tuple[int, int]]:
    """``count`` byte ranges (fewer for a file of fewer chunks, at most 255) of the file
    ``stream`` reads from its current position, each starting at the start of a line; none
    (split in this process) when the file is small, not a regular file (a pipe), a text stream,
    or when fork is not available."""
    size = _regular_size(stream)
    if not hasattr(os, "fork") or isinstance(stream, io.TextIOBase) or size < PARALLEL_FROM:
        return []
    start = stream.tell()
    count = max(1, min(count, 255, (size - start) // CHUNK))
    fd = stream.fileno()
    bounds = [start]
    for k in range(1, count):
        pos = max(bounds[-1], start + (size - start) * k // count)
        while pos < size:  # on to the start of the next line
            piece = os.pread(fd, 65536, pos)
            newline = piece.find(b"\n")
            if newline >= 0:
                pos += newline + 1
                break
            pos += len(piece)
        if pos < size and pos > bounds[-1]:
            bounds.append(pos)
    bounds.append(size)
    return list(zip(bounds, bounds[1:], strict=False))


def _range_chunks(fd: int, start: int, end: int) -> Iterator[bytes]:
    while start < end:
        piece = os.pread(fd, min(CHUNK, end - start), start)
        if not piece:
            return
        start += len(piece)
        yield piece


#: Parts per process: a process slowed by other work on the machine takes fewer of them.
PARTS_PER_WORKER = 4


def _count_part(fd: int, part: tuple[int, int], splitter: _Splitter) -> tuple:
    """One part counted alone: (its tally, invalid count, invalid line numbers from the part's
    start, number of lines). The label cache is the process's."""
    mine = _Splitter({}, splitter.max_invalid_lines, labels=splitter.labels)
    lines = mine.feed(_range_chunks(fd, *part), None)
    return dict(mine.tally), mine.result.invalid, mine.result.invalid_lines, lines


def _take(queue: int) -> Iterator[int]:
    """The numbers of the parts this process takes from the shared queue, one at a time (a
    one-byte read from a pipe is atomic, so no part is taken twice)."""
    while True:
        got = os.read(queue, 1)
        if not got:
            return
        yield got[0]


def _split_parallel(
    splitter: _Splitter,
    fd: int,
    parts: list[tuple[int, int]],
    workers: int,
    progress: Progress | None,
) -> None:
    """Count ``parts`` with ``workers`` processes — this one and forked ones — which take the
    parts' numbers from a pipe until none is left, then add the tallies, invalid lines (numbered
    from the start of the file) and line counts in the order of the parts.

    A forked child shares this process's memory until it writes (the catalog, the code), reads
    its parts with ``pread``, sends back a pickle through a pipe and leaves with ``os._exit``
    (nothing of Django's or the parent's buffers runs twice). Parts a child took but did not
    report (it failed) are counted here."""
    queue, feed = os.pipe()
    os.write(feed, bytes(range(len(parts))))  # at most 255 parts: far below a pipe's buffer
    os.close(feed)
    children = []
    for _ in range(workers - 1):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                os.close(read)
                done = {k: _count_part(fd, parts[k], splitter) for k in _take(queue)}
                with os.fdopen(write, "wb") as out:
                    out.write(pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL))
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        children.append((pid, read))
    taken: Iterable[int] = _take(queue)
    if progress is not None:
        # This process takes about its share of the parts: the bar counts those.
        taken = progress(taken, math.ceil(len(parts) / workers))  # type: ignore[arg-type]
    done = {k: _count_part(fd, parts[k], splitter) for k in taken}
    os.close(queue)
    for pid, read in children:
        with os.fdopen(read, "rb") as pipe:
            payload = pipe.read()
        _pid, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) == 0 and payload:
            done.update(pickle.loads(payload))  # noqa: S301 - our own child's
    result = splitter.result
    lines = 0
    for k, part in enumerate(parts):
        tally, invalid, invalid_lines, part_lines = done.get(k) or _count_part(fd, part, splitter)
        splitter.tally.update(tally)
        result.invalid += invalid
        room = splitter.max_invalid_lines - len(result.invalid_lines)
        result.invalid_lines += [lines + n for n in invalid_lines[: max(room, 0)]]
        lines += part_lines
    result.lines = lines


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
    """One split: the tallies of last labels, the invalid lines, the IDNA label cache."""

    def __init__(
        self,
        cctlds: Mapping[str, str],
        max_invalid_lines: int,
        labels: dict[str, str] | None = None,
    ) -> None:
        self.by_label = {k.encode("ascii"): v for k, v in cctlds.items() if k.isascii()}
        self.max_invalid_lines = max_invalid_lines
        self.result = SplitResult()
        self.tally: Counter[bytes] = Counter()
        #: U-label → A-label, valid ones only.
        self.labels: dict[str, str] = {} if labels is None else labels

    def feed(self, chunks: Iterable[bytes], slices: _Slices | None) -> int:
        """Tally the lines of ``chunks``; returns how many lines there were. A line longer than
        :data:`MAX_LINE` is invalid and not kept: what a line can hold is bounded too."""
        rest = b""
        line = 1  # the number of the first line of the next block
        overlong = False  # in a line too long to keep, until its newline
        for chunk in chunks:
            if overlong:
                end = chunk.find(b"\n")
                if end < 0:
                    continue
                self._invalid([line])
                line += 1
                overlong, chunk = False, chunk[end + 1 :]
            data = rest + chunk if rest else chunk
            end = data.rfind(b"\n")
            if end < 0:
                rest = data
                if len(rest) > MAX_LINE:
                    overlong, rest = True, b""
                continue
            rest = data[end + 1 :]
            line = self._block(data[:end], line, slices)
        if overlong:
            self._invalid([line])
            line += 1
        elif rest:
            line = self._block(rest, line, slices)
        return line - 1

    def finish(self) -> SplitResult:
        """The result: the tallied last labels sorted into ccTLDs and the rest."""
        counts: Counter[str] = Counter()
        for label, n in self.tally.items():
            alabel = self.by_label.get(label)
            if alabel is None:
                self.result.not_cctld += n
            else:
                counts[alabel] += n
        self.result.counts = dict(counts)
        return self.result

    def _block(self, block: bytes, first: int, slices: _Slices | None) -> int:
        """Count the lines of ``block`` (whole lines, without the last newline), the first of
        which is line ``first``; returns the number of the line after it."""
        low = block.lower()
        names: list[bytes] = []
        if slices is None:
            found = _FAST.findall(low)
        else:
            pairs = _FAST_NAMES.findall(low)
            names = [name for name, _tld in pairs]
            found = [tld for _name, tld in pairs]
        count = len(found)
        left = found.count(b"")  # the lines the pattern did not take: a few percent
        if left:
            lines = low.split(b"\n")
            count = len(lines)
            numbers, again, invalid = self._prepare(lines, found, left, first)
            if again:
                data = b"\n".join(again)
                if slices is None:
                    retry = _FAST.findall(data)
                    found += retry
                else:  # back in their places, so that each slice keeps the order of the file
                    retry = []
                    for number, (name, tld) in zip(numbers, _FAST_NAMES.findall(data), strict=True):
                        found[number - first], names[number - first] = tld, name
                        retry.append(tld)
                index = -1
                for _ in range(retry.count(b"")):
                    index = retry.index(b"", index + 1)
                    invalid.append(numbers[index])
            self._invalid(sorted(invalid))
        if slices is not None:
            groups: dict[str, list[str]] = {}
            for name, tld in zip(names, found, strict=True):
                alabel = self.by_label.get(tld)
                if alabel is not None:
                    groups.setdefault(alabel, []).append(name.decode("ascii"))
            for alabel, group in groups.items():
                slices.write(alabel, group)
        self.tally.update(found)
        del self.tally[b""]
        return first + count

    def _prepare(
        self, lines: list[bytes], found: list[bytes], left: int, first: int
    ) -> tuple[list[int], list[bytes], list[int]]:
        """The lines the pattern left, made ready for it again: white space stripped, blank and
        comment lines dropped, non-ASCII names encoded (UTS 46 and IDNA 2008). Returns their line
        numbers, their ASCII forms, and the numbers of the lines found invalid already."""
        numbers: list[int] = []
        names: list[bytes] = []
        invalid: list[int] = []
        simple_numbers: list[int] = []
        simple: list[str] = []
        index = -1
        for _ in range(left):
            index = found.index(b"", index + 1)
            raw = lines[index]
            if raw.isascii():
                raw = raw.strip()
                if raw and raw[0] != 35:  # "#"
                    numbers.append(first + index)
                    names.append(raw)
                continue
            try:
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                invalid.append(first + index)
                continue
            if not text or text[0] == "#":
                continue
            if _SIMPLE.issuperset(text) or _learn(text):
                simple_numbers.append(first + index)
                simple.append(text)
                continue
            name = self._idna(text)
            if name is None:
                invalid.append(first + index)
            else:
                numbers.append(first + index)
                names.append(name.encode("ascii"))
        if simple:
            numbers += simple_numbers
            names += self._encode(simple)
        return numbers, names, invalid

    def _encode(self, texts: list[str]) -> list[bytes]:
        """Names written only in characters that need nothing but lower-casing (:func:`_simple`)
        → their ASCII forms. For those, ``str.lower`` *is* the UTS 46 mapping and the IDNA 2008
        label checks reduce to the hyphen rules, so all of them are lower-cased at once and only
        their non-ASCII labels go through Python, each once (:func:`punycode`, with a cache)."""
        batch = "\n".join(texts).lower()
        if not unicodedata.is_normalized("NFC", batch):  # rare: look at each name alone
            return [
                (self._idna(t) or "!").encode("ascii")
                if not unicodedata.is_normalized("NFC", t.lower())
                else _U_LABEL.sub(self._alabel, t.lower()).encode("ascii")
                for t in texts
            ]
        return _U_LABEL.sub(self._alabel, batch).encode("ascii").split(b"\n")

    def _alabel(self, match: re.Match[str]) -> str:
        label = match.group()
        alabel = self.labels.get(label)
        if alabel is None:
            if label[0] == "-" or label[-1] == "-" or label[2:4] == "--":
                return "!"  # IDNA 2008's hyphen rules; "!" makes the name invalid
            alabel = "xn--" + punycode(label)
            if len(self.labels) >= LABEL_CACHE:
                self.labels.clear()
            self.labels[label] = alabel
        return alabel

    def _idna(self, text: str) -> str | None:
        """The whole of UTS 46 and IDNA 2008 (``idna``), for names with other characters (right
        to left, joiners, marks, full-width dots …), label by label with the cache (a full stop
        never combines with its neighbours, so mapping each label alone is mapping the name).
        ASCII labels are left to the splitter's pattern, so that they are judged the same in
        every name, and so is the trailing dot."""
        labels = text.split(".")
        cache = self.labels
        for i, label in enumerate(labels):
            if label.isascii():
                continue
            alabel = cache.get(label)
            if alabel is None:
                try:
                    mapped = idna.uts46_remap(label, std3_rules=False).split(".")
                    alabel = ".".join(
                        part if part.isascii() else idna.alabel(part).decode("ascii")
                        for part in mapped
                    )
                except (idna.IDNAError, UnicodeError):
                    return None
                if len(cache) >= LABEL_CACHE:
                    cache.clear()
                cache[label] = alabel
            labels[i] = alabel
        return ".".join(labels)

    def _invalid(self, numbers: list[int]) -> None:
        result = self.result
        result.invalid += len(numbers)
        room = self.max_invalid_lines - len(result.invalid_lines)
        if room > 0:
            result.invalid_lines += numbers[:room]


#: A label with a non-ASCII character, in lower-cased names one a line.
_U_LABEL = re.compile(r"[^.\n]*[^\x00-\x7f][^.\n]*")


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


_DIGIT = "abcdefghijklmnopqrstuvwxyz0123456789"


def punycode(label: str) -> str:
    """RFC 3492's encoding of ``label`` (without ``xn--``): the same as ``label.encode(
    "punycode")``, about three times faster (the standard library's encoder scans the label once
    per distinct character and costs about 20 µs a label). Each non-ASCII character, in the
    order of (code point, position), is one insertion: its delta is how far the decoder's state
    (code point × (length + 1) + position) moves from the previous insertion."""
    codes = [ord(c) for c in label]
    out = [c for c in label if c < "\x80"]
    length = basic = len(out)
    if basic:
        out.append("-")
    n, at, bias = 128, 0, 72
    for m, p in sorted([(c, p) for p, c in enumerate(codes) if c >= 128]):
        i = 0  # where it is inserted: the characters before it already there
        for c in codes[:p]:
            if c <= m:
                i += 1
        delta = (m - n) * (length + 1) + i - at
        q, k = delta, 36
        while True:  # a generalised variable-length integer
            t = k - bias
            t = 1 if t < 1 else 26 if t > 26 else t
            if q < t:
                break
            out.append(_DIGIT[t + (q - t) % (36 - t)])
            q = (q - t) // (36 - t)
            k += 36
        out.append(_DIGIT[q])
        length += 1  # bias adaptation (RFC 3492, 6.1)
        delta = delta // 700 if length - 1 == basic else delta // 2
        delta += delta // length
        k = 0
        while delta > 455:
            delta //= 35
            k += 36
        bias = k + (36 * delta) // (delta + 38)
        n, at = m, i + 1
    return "".join(out)


def cctld_of(name: str, cctlds: Mapping[str, str]) -> str | None:
    """The A-label of the ccTLD a normalised name belongs to, or ``None`` (a gTLD, unknown)."""
    return cctlds.get(name.rpartition(".")[2])


__all__ = [
    "CHUNK",
    "MAX_INVALID_LINES",
    "SplitResult",
    "cctld_index",
    "cctld_of",
    "read_chunks",
    "split",
]
