"""The text a person reads in an HTML mail, for the archive (reading and search).

Built on the standard library's :class:`html.parser.HTMLParser`, which copes with the HTML mail
clients really send (unclosed tags, comments holding ``>``, ``<`` inside attribute values) where
regular expressions do not; it needs no new dependency. What a reader never sees is dropped:
scripts, style sheets, the ``<title>`` and templates. A paragraph (``<p>``, a heading, a list…) is
set apart by a blank line, a ``<br>``, ``<div>`` or list item starts a line; white space collapses
as a browser collapses it (not in ``<pre>``); entities are decoded; and a link keeps its target
after its text (``the advisory <https://…>``), so a URL can be searched for.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Elements whose content is not shown to the reader.
HIDDEN = frozenset({"script", "style", "title", "template"})
#: Elements set apart by a blank line, and elements that only start a new line.
PARAGRAPHS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dl", "fieldset", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav", "ol", "p", "pre",
        "section", "table", "ul",
    }
)  # fmt: skip
LINES = frozenset({"br", "dd", "div", "dt", "figcaption", "li", "td", "th", "tr"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.breaks = 0  # line breaks owed before the next text (0, 1, or 2 for a blank line)
        self.hidden = 0
        self.pre = 0
        self.links: list[tuple[str, int]] = []  # (href, len(out) when the link opened)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.hidden = 0  # an unclosed <title> or <style> in the head hides nothing more
        if tag in HIDDEN:
            self.hidden += 1
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))
        self._block(tag)
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            shown = "".join(self.out[start:])
            if re.match(r"(?i)(https?|ftp)://", href) and href not in shown and shown.strip():
                self.out.append(f" <{href}>")
        if tag != "br":  # <br/> is reported as a start and an end: one line break only
            self._block(tag)
        if tag == "pre":
            self.pre = max(0, self.pre - 1)

    def _block(self, tag: str) -> None:
        if tag in PARAGRAPHS:
            self.breaks = 2
        elif tag in LINES:
            self.breaks = max(self.breaks, 1)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if not self.pre:
            data = re.sub(r"\s+", " ", data)  # as a browser shows it; &nbsp; too
        if self.breaks:
            if not data.strip():
                return
            if self.out:
                self.out.append("\n" * self.breaks)
            self.breaks = 0
            data = data if self.pre else data.lstrip(" ")
        elif not self.out or self.out[-1].endswith("\n"):
            data = data if self.pre else data.lstrip(" ")
        self.out.append(data)


def html_to_text(markup: str) -> str:
    """The visible text of ``markup``: a line per line or paragraph, no tags, scripts or styles."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    lines = "".join(parser.out).replace("\r\n", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")
