"""Parsers for what IANA publishes: the TLD list, the Root Zone Database pages, the root zone file.

Pure functions from text to plain data, so they are tested on fixture files without a network.
HTML is read with the standard library's :class:`html.parser.HTMLParser`: the pages are simple,
and a tolerant event parser copes with markup changes (attributes, wrappers, whitespace) that a
regular expression would not.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import dns.exception
import dns.name
import dns.rdatatype
import dns.zone
import idna

_LABEL = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$")
_EMAIL = re.compile(r"[^\s<>()\[\]:;,\"']+@[^\s<>()\[\]:;,\"']+\.[^\s<>()\[\]:;,\"']+")


class IanaFormatError(ValueError):
    """A document does not look like what IANA publishes (empty, truncated, changed format)."""


# --- tlds-alpha-by-domain.txt ------------------------------------------------------------------


def parse_tld_list(text: str) -> set[str]:
    """The delegated TLDs (lower-case A-labels) from ``tlds-alpha-by-domain.txt``.

    The file starts with a ``# Version …`` comment, then one upper-case TLD a line.
    """
    out: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        label = line.lower().rstrip(".")
        if not _LABEL.match(label):
            raise IanaFormatError(f"unexpected line in the TLD list: {line[:60]!r}")
        out.add(label)
    if not out:
        raise IanaFormatError("the TLD list is empty")
    return out


# --- A small block-aware HTML reader -------------------------------------------------------------

_BREAKS = {"br", "p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "section"}


@dataclass
class _Section:
    title: str
    lines: list[str] = field(default_factory=list)
    bold: list[str] = field(default_factory=list)
    rows: list[list[list[str]]] = field(default_factory=list)  # rows → cells → lines
    links: list[str] = field(default_factory=list)


def _clean(text: str) -> str:
    return " ".join(text.split())


class _Reader(HTMLParser):
    """Splits a page into sections at each ``<h2>``; keeps text lines, bold runs and table rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.h1 = ""
        self.sections: list[_Section] = [_Section(title="")]
        self._heading: str | None = None
        self._heading_text: list[str] = []
        self._line: list[str] = []
        self._bold_depth = 0
        self._bold: list[str] = []
        self._skip = 0
        self._row: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._cell_line: list[str] = []
        self._row_links: list[str] = []
        self.table_rows: list[tuple[list[list[str]], list[str]]] = []  # every row with its hrefs

    # structure
    @property
    def section(self) -> _Section:
        return self.sections[-1]

    def _flush_line(self) -> None:
        text = _clean("".join(self._line))
        self._line = []
        if text:
            self.section.lines.append(text)

    def _flush_cell_line(self) -> None:
        text = _clean("".join(self._cell_line))
        self._cell_line = []
        if text and self._cell is not None:
            self._cell.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
            return
        if tag in ("h1", "h2", "h3"):
            self._flush_line()
            self._heading, self._heading_text = tag, []
            return
        if tag in ("b", "strong"):
            self._bold_depth += 1
            if self._bold_depth == 1:
                self._bold = []
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.section.links.append(href)
                if self._row is not None:
                    self._row_links.append(href)
        if tag == "tr":
            self._flush_line()
            self._row, self._row_links = [], []
        elif tag in ("td", "th"):
            if self._row is None:
                self._row, self._row_links = [], []
            self._flush_cell_line()
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._flush_cell_line()
        elif tag in _BREAKS:
            self._flush_line()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
            return
        if tag in ("h1", "h2", "h3") and self._heading == tag:
            title = _clean("".join(self._heading_text))
            if tag == "h1" and not self.h1:
                self.h1 = title
            elif tag == "h2":
                self.sections.append(_Section(title=title))
            self._heading = None
            return
        if tag in ("b", "strong") and self._bold_depth:
            self._bold_depth -= 1
            if self._bold_depth == 0:
                text = _clean("".join(self._bold))
                if text:
                    self.section.bold.append(text)
        if tag in ("td", "th") and self._cell is not None:
            self._flush_cell_line()
            if self._row is not None:
                self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._cell is not None:
                self.handle_endtag("td")
            if self._row:
                self.section.rows.append(self._row)
                self.table_rows.append((self._row, self._row_links))
            self._row = None
        elif tag in _BREAKS:
            self._flush_line()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._heading:
            self._heading_text.append(data)
            return
        if self._bold_depth:
            self._bold.append(data)
        if self._cell is not None:
            self._cell_line.append(data)
        else:
            self._line.append(data)

    def close(self) -> None:
        super().close()
        self._flush_line()


def _read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


# --- The Root Zone Database index ----------------------------------------------------------------


@dataclass(frozen=True)
class IndexEntry:
    """One row of the Root Zone Database index: ``.fr  country-code  Afnic``."""

    alabel: str
    type: str  # "country-code", "generic", "sponsored", "infrastructure", "generic-restricted", "test"
    manager: str
    url: str


def to_alabel(text: str) -> str:
    """``.рф`` / ``RF`` / ``xn--p1ai`` → the lower-case A-label, or ``""`` when it is not a label."""
    value = _clean(text).strip().strip(".").lower()
    if not value:
        return ""
    if value.isascii():
        return value if _LABEL.match(value) else ""
    try:
        return idna.encode(value, uts46=True).decode("ascii")
    except idna.IDNAError:
        return ""


def parse_index(html: str, base_url: str) -> list[IndexEntry]:
    """Every TLD of the index page (``<table id="tld-table">``) with its type and manager.

    The A-label comes from the link (``/domains/root/db/xn--p1ai.html``) when there is one, else
    from the displayed name; links are made absolute against ``base_url``.
    """
    base = base_url.rstrip("/") + "/"
    out: dict[str, IndexEntry] = {}
    for cells, links in _read(html).table_rows:
        if len(cells) < 2:
            continue
        texts = [" ".join(c) for c in cells]
        href = next((h for h in links if h.split("?")[0].endswith(".html")), "")
        alabel = ""
        if href:
            alabel = to_alabel(href.split("?")[0].rsplit("/", 1)[-1][: -len(".html")])
        if not alabel and texts[0].strip().startswith("."):
            alabel = to_alabel(texts[0])
        if not alabel:
            continue  # a header row or something else
        url = urljoin(base, href) if href else urljoin(base, f"{alabel}.html")
        out[alabel] = IndexEntry(
            alabel=alabel,
            type=_clean(texts[1]).lower(),
            manager=_clean(texts[2]) if len(texts) > 2 else "",
            url=url,
        )
    if not out:
        raise IanaFormatError("no TLD found in the Root Zone Database index")
    return list(out.values())


# --- A per-TLD delegation record -----------------------------------------------------------------


@dataclass
class DelegationRecord:
    """What one Root Zone Database page says about a TLD."""

    title: str = ""
    manager: str = ""
    admin_org: str = ""
    admin_email: str = ""
    tech_org: str = ""
    tech_email: str = ""
    nameservers: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.manager or self.admin_org or self.admin_email or self.nameservers)


_MANAGER_TITLES = (
    "cctld manager",
    "tld manager",
    "sponsoring organisation",
    "sponsoring organization",
    "registry operator",
    "manager",
)


def _org(section: _Section) -> str:
    for text in section.bold:
        if not text.endswith(":"):
            return text
    for line in section.lines:
        if ":" not in line and "@" not in line:
            return line
    return ""


def _email(section: _Section) -> str:
    for line in section.lines:
        label, sep, value = line.partition(":")
        if sep and label.strip().lower().replace("-", "") in ("email", "e mail"):
            match = _EMAIL.search(value)
            if match:
                return match.group(0).strip(".")
    for link in section.links:
        if link.lower().startswith("mailto:"):
            return link[len("mailto:") :].split("?")[0]
    return ""


def split_addresses(texts: list[str]) -> tuple[list[str], list[str]]:
    """IPv4 and IPv6 addresses found in ``texts`` (canonical form, sorted, no duplicates)."""
    v4: set[str] = set()
    v6: set[str] = set()
    for text in texts:
        for token in re.split(r"[\s,;]+", text):
            try:
                addr = ipaddress.ip_address(token.strip("[]"))
            except ValueError:
                continue
            (v4 if addr.version == 4 else v6).add(addr.compressed)
    return sorted(v4, key=ipaddress.ip_address), sorted(v6, key=ipaddress.ip_address)


def parse_tld_page(html: str) -> DelegationRecord:
    """The manager, administrative and technical contacts and name servers of one TLD page."""
    reader = _read(html)
    record = DelegationRecord(title=reader.h1)
    for section in reader.sections:
        title = section.title.lower()
        if title in _MANAGER_TITLES and not record.manager:
            record.manager = _org(section)
        elif title.startswith("administrative contact"):
            record.admin_org, record.admin_email = _org(section), _email(section)
        elif title.startswith("technical contact"):
            record.tech_org, record.tech_email = _org(section), _email(section)
        elif title.startswith("name server"):
            for row in section.rows:
                if not row or not row[0]:
                    continue
                host = _hostname(row[0][0])
                if not host:
                    continue  # the header row ("Host Name", "IP Address(es)")
                record.nameservers[host] = split_addresses(
                    [line for cell in row[1:] for line in cell]
                )
    return record


def _hostname(text: str) -> str:
    """``A.NIC.FR.`` → ``a.nic.fr``; IDN host names become A-labels; ``""`` if not a host name."""
    labels = [to_alabel(part) for part in _clean(text).strip().rstrip(".").split(".")]
    if not labels or not all(labels) or len(labels) < 2:
        return ""
    return ".".join(labels)


# --- The root zone file ----------------------------------------------------------------------------


@dataclass
class RootZone:
    """The delegations of the root: NS host names per TLD, TLDs with a DS, and glue addresses."""

    ns: dict[str, list[str]] = field(default_factory=dict)
    ds: set[str] = field(default_factory=set)
    glue: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)


def _name(n: dns.name.Name) -> str:
    return n.to_text(omit_final_dot=True).lower()


def parse_root_zone(text: str) -> RootZone:
    """Read a root zone master file (as published by InterNIC) with dnspython."""
    try:
        zone = dns.zone.from_text(text, origin=dns.name.root, relativize=False, check_origin=False)
    except (dns.exception.DNSException, ValueError) as exc:
        raise IanaFormatError(f"the root zone file cannot be read: {exc}") from exc
    out = RootZone()
    v4: dict[str, set[str]] = {}
    v6: dict[str, set[str]] = {}
    for name, node in zone.nodes.items():
        owner = _name(name)
        for rdataset in node.rdatasets:
            if rdataset.rdtype == dns.rdatatype.NS and len(name.labels) == 2:
                out.ns[owner] = sorted({_name(r.target) for r in rdataset})
            elif rdataset.rdtype == dns.rdatatype.DS and len(name.labels) == 2:
                out.ds.add(owner)
            elif rdataset.rdtype == dns.rdatatype.A:
                v4.setdefault(owner, set()).update(r.address for r in rdataset)
            elif rdataset.rdtype == dns.rdatatype.AAAA:
                v6.setdefault(owner, set()).update(
                    ipaddress.ip_address(r.address).compressed for r in rdataset
                )
    for host in set(v4) | set(v6):
        out.glue[host] = (
            sorted(v4.get(host, ()), key=ipaddress.ip_address),
            sorted(v6.get(host, ()), key=ipaddress.ip_address),
        )
    if not out.ns:
        raise IanaFormatError("the root zone file has no TLD delegation (NS records)")
    return out
