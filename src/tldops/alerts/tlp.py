"""The Traffic Light Protocol, version 2.0 (FIRST): the five labels an alert carries.

The label says who may see the information: ``CLEAR`` anyone, ``GREEN`` the community,
``AMBER`` the recipient's organisation and its clients on a need-to-know basis,
``AMBER+STRICT`` the recipient's organisation only, ``RED`` the named recipients only. Labels are
written exactly so, in upper case, and never translated (FIRST's standard), in subjects as
``[TLP:AMBER]``.
"""

from __future__ import annotations

import re
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tldops.kernel.errors import InvalidInput


class Tlp(StrEnum):
    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"

    @property
    def tag(self) -> str:
        """``TLP:AMBER``: how the label is written in subjects, bodies, pages and files."""
        return f"TLP:{self.value}"

    @property
    def meaning(self) -> Promise:
        """One line on what the label allows, in the community's words (pages, forms, mail)."""
        return MEANING[self]

    @property
    def sharing(self) -> Promise:
        """What a reader may do with it: the first line under the label in every mail."""
        return SHARING[self]

    @property
    def members_only(self) -> bool:
        """Everything but CLEAR stays inside the community."""
        return self is not Tlp.CLEAR

    @property
    def named_only(self) -> bool:
        """RED: the people the author names, and nobody else (staff included)."""
        return self is Tlp.RED


#: One line on each label (FIRST's TLP 2.0, in the community's words).
MEANING = {
    Tlp.CLEAR: gettext_lazy(
        "No restriction: anyone may see it, and it may be public if you tick “public”."
    ),
    Tlp.GREEN: gettext_lazy("The community: every member and the staff; never public."),
    Tlp.AMBER: gettext_lazy(
        "Members, who may pass it on inside their organisation and to clients who need it."
    ),
    Tlp.AMBER_STRICT: gettext_lazy(
        "Members, who may pass it on inside their own organisation only."
    ),
    Tlp.RED: gettext_lazy(
        "Only the people you name below: not the list, not the staff unless you name them."
    ),
}

#: What a reader may do with an alert so labelled: said under the label in every mail.
SHARING = {
    Tlp.CLEAR: gettext_lazy("You may share it without restriction."),
    Tlp.GREEN: gettext_lazy("You may share it within the community, but not publicly."),
    Tlp.AMBER: gettext_lazy(
        "You may share it inside your organisation and with its clients, on a need-to-know basis."
    ),
    Tlp.AMBER_STRICT: gettext_lazy("You may share it inside your own organisation only."),
    Tlp.RED: gettext_lazy(
        "For you, one of the people named, only: do not share it, not even inside your "
        "organisation."
    ),
}

#: The label in a subject or a first line: ``[TLP:AMBER+STRICT]``, ``TLP: green``, ``TLP:WHITE``
#: (TLP 1.0's name for CLEAR, still common in mail).
TAG = re.compile(r"\bTLP\s*:\s*(CLEAR|WHITE|GREEN|AMBER\s*\+\s*STRICT|AMBER|RED)\b", re.IGNORECASE)


def parse(raw: str | None) -> Tlp:
    """A label as people write it (``amber+strict``, ``TLP:RED``, ``white``) → :class:`Tlp`;
    :class:`InvalidInput` naming the five labels when it is missing or unknown."""
    text = (raw or "").strip().upper().replace(" ", "")
    text = text.removeprefix("TLP:")
    if text == "WHITE":
        return Tlp.CLEAR
    try:
        return Tlp(text)
    except ValueError:
        raise InvalidInput(
            _(
                "A TLP label is required: one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED "
                "(not “%(given)s”). Nothing was sent."
            )
            % {"given": (raw or "")[:40]},
            field="tlp",
        ) from None


def find(text: str) -> Tlp | None:
    """The first TLP label written in ``text`` (a subject), or ``None``."""
    match = TAG.search(text or "")
    return parse(match.group(1)) if match else None
