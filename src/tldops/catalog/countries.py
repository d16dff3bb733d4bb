"""The country (or territory) of a ccTLD: its ISO 3166-1 code, the reserved code beside it, its name.

Most ASCII ccTLDs are an officially assigned ISO 3166-1 alpha-2 code in lower case (``fr`` → FR).
A few are not, and the catalog keeps two codes apart for them:

- ``iso_code``: the *officially assigned* alpha-2 code of the country or territory, the code every
  other system (a phone-number library, an address book's country field) understands; empty when
  there is none.
- ``reserved_code``: the *exceptionally reserved* code the ccTLD is named after, when the ccTLD's
  code is one: ISO 3166/MA reserves AC, EU, SU and UK for their ccTLDs without assigning them.

So ``.uk`` is GB (reserved UK), ``.ac`` is SH — Ascension is part of "Saint Helena, Ascension and
Tristan da Cunha" — (reserved AC), and ``.eu`` and ``.su`` have no assigned code (reserved EU, SU).

Names come from ``pycountry`` (ISO 3166-1's English short names), which lists a few of them the
way an index does, inverted (``Congo, The Democratic Republic of the``). :func:`natural_name`
turns those back into the order people write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pycountry


@dataclass(frozen=True)
class Country:
    """What the catalog stores about a ccTLD's country; every field may be ``""``."""

    iso_code: str
    reserved_code: str
    name: str


#: ccTLDs whose code is not an officially assigned ISO 3166-1 code (all four are exceptionally
#: reserved): the assigned code of their country or territory, if any, and the name we show.
EXCEPTIONS: dict[str, Country] = {
    "ac": Country("SH", "AC", "Ascension Island"),
    "eu": Country("", "EU", "European Union"),
    "su": Country("", "SU", "Soviet Union (legacy)"),
    "uk": Country("GB", "UK", "United Kingdom"),
}

# "Head, tail" where the tail is a qualifier that reads before the head: "…, Republic of",
# "…, The Democratic Republic of the", "…, State of", or one word ("…, British", "…, U.S.").
_OF_TAIL = re.compile(r"^(?:the\s+)?(?P<tail>.+\bof(?:\s+the)?)$", re.IGNORECASE)


def natural_name(name: str) -> str:
    """ISO's inverted short names in natural order; other names unchanged.

    ``Congo, The Democratic Republic of the`` → ``Democratic Republic of the Congo``,
    ``Micronesia, Federated States of`` → ``Federated States of Micronesia``,
    ``Virgin Islands, British`` → ``British Virgin Islands``. A comma that is part of the name
    (``Saint Helena, Ascension and Tristan da Cunha``) is left as it is.
    """
    head, sep, tail = name.partition(", ")
    if not sep or ", " in tail or not head.strip() or not tail.strip():
        return name
    tail = tail.strip()
    match = _OF_TAIL.match(tail)
    if match:
        return f"{match['tail']} {head.strip()}"
    if " " not in tail:  # a single qualifier: "British", "U.S."
        return f"{tail} {head.strip()}"
    return name


def country_info(code: str) -> Country:
    """The country of a two-letter ccTLD or ISO code (``Country("", "", "")`` if unknown)."""
    code = (code or "").lower()
    if code in EXCEPTIONS:
        return EXCEPTIONS[code]
    country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    if country is None:
        return Country("", "", "")
    name = getattr(country, "common_name", None) or country.name
    return Country(country.alpha_2, "", natural_name(name))
