"""Finding a ccTLD from what a person typed: ``fr``, ``.FR``, ``рф`` and ``xn--p1ai`` all name one.

Look-alikes are refused with a hint (``.uа`` typed with a Cyrillic ``а`` is not ``.ua``). Every door
and every app that takes a ccTLD from a person uses :func:`resolve_tld`.
"""

from __future__ import annotations

import idna
from confusable_homoglyphs import confusables
from django.utils.translation import gettext as _

from tldops.catalog.models import Tld
from tldops.kernel.errors import InvalidInput, shown


def resolve_tld(raw: str, *, delegated_only: bool = True) -> Tld:
    """The ccTLD named by ``raw``: ``fr``, ``.FR``, ``рф``, ``xn--p1ai`` all work.

    Look-alikes are refused with a hint: ``.uа`` typed with a Cyrillic ``а`` is not ``.ua``.
    """
    text = (raw or "").strip().strip(".")
    if not text:
        raise InvalidInput(_("Name a ccTLD, e.g. fr or рф."), field="tld")
    if len(text) > 63:  # longer than any DNS label
        raise InvalidInput(_("“%(v)s” is not a known ccTLD.") % {"v": shown(text)}, field="tld")
    try:
        alabel = idna.encode(text, uts46=True).decode("ascii").lower()
    except idna.IDNAError:
        alabel = ""
    tld = Tld.objects.filter(alabel=alabel).first() if alabel else None
    if tld is None:
        if not text.isascii():
            skeleton = _latin_skeleton(text)
            if skeleton and skeleton != text and Tld.objects.filter(alabel=skeleton).exists():
                raise InvalidInput(
                    _(
                        "“%(v)s” looks like .%(s)s but is written with non-Latin look-alike letters; "
                        "type .%(s)s with Latin letters."
                    )
                    % {"v": shown(text), "s": skeleton},
                    field="tld",
                )
        raise InvalidInput(_("“%(v)s” is not a known ccTLD.") % {"v": text}, field="tld")
    if confusables.is_mixed_script(tld.ulabel):
        raise InvalidInput(_("“%(v)s” mixes scripts.") % {"v": text}, field="tld")
    if delegated_only and not tld.delegated:
        raise InvalidInput(
            _(".%(v)s is no longer delegated (retired).") % {"v": tld.alabel}, field="tld"
        )
    return tld


def _latin_skeleton(text: str) -> str:
    """Each character replaced by an ASCII Latin homoglyph where it has one."""
    out = []
    for ch in text.lower():
        if ch.isascii():
            out.append(ch)
            continue
        found = confusables.is_confusable(ch, preferred_aliases=["latin"], greedy=True) or []
        latin = [g["c"] for f in found for g in f["homoglyphs"] if g["c"].isascii()]
        out.append(latin[0].lower() if latin else ch)
    return "".join(out)
