"""A small community for the alert tests: two contacts of .fr, one of .nl, someone named but not
yet confirmed for .br, the secretariat and a committee member."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import _invite_and_authorise
from tldops.alerts import services
from tldops.directory.audit import Actor
from tldops.directory.models import Person
from tldops.directory.validation import ContactInput


@dataclass
class World:
    ana: Person  # .fr
    marc: Person  # .fr
    jan: Person  # .nl
    pending: Person  # named for .br, not confirmed
    sec: Person
    chair: Person

    def readers(self) -> dict[str, Person | None]:
        """Every kind of reader, by role: who the TLP matrix is checked against."""
        return {
            "anonymous": None,
            "pending": self.pending,
            "member": self.jan,
            "colleague": self.marc,
            "author": self.ana,
            "secretariat": self.sec,
            "committee": self.chair,
        }


@pytest.fixture
def community(catalog, make_member, staff) -> World:
    return build_community(catalog, make_member, staff)


def build_community(catalog, make_member, staff) -> World:
    ana = make_member(catalog["fr"], name="Ana Lopez")
    marc = make_member(catalog["fr"], name="Marc Dubois", email="marc@nic.fr")
    jan = make_member(catalog["nl"], name="Jan Jansen", email="jan@nic.nl")
    (m,) = _invite_and_authorise(
        catalog["br"], [ContactInput(name="Paula Souza", email="paula@nic.br")]
    )
    sec = staff("secretariat", email="sec@tldops.example")
    chair = staff("committee", email="chair@tldops.example", position="chair")
    return World(ana=ana, marc=marc, jan=jan, pending=m.person, sec=sec, chair=chair)


def raise_as(author: Person, tlp: str, **fields: object):
    data = services.AlertInput(
        title=fields.pop("title", f"{tlp} DGA names under .fr"),
        category=fields.pop("category", "malware"),
        tlp=tlp,
        **fields,
    )
    return services.raise_alert(author, data, actor=Actor.of(author, "web"))
