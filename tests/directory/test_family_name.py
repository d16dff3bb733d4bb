"""Structured names: a person may mark which part of their full name is their family name; the
vCard's N is built from it and nothing is guessed. And a phone number typed for .ac is read in
Ascension's numbering plan (+247), though the ccTLD's assigned ISO code is SH."""

from __future__ import annotations

import pytest
import vobject

from tests.conftest import _invite_and_authorise
from tldops.directory import actions
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry, Person, split_name
from tldops.directory.validation import ContactInput, ProfileChange, clean_family_name
from tldops.kernel.errors import DirectoryError, InvalidInput
from tldops.repository import render, snapshot


@pytest.mark.parametrize(
    ("name", "family", "expected"),
    [
        ("Élodie Martin", "Martin", ("Martin", "Élodie")),
        ("王伟", "王", ("王", "伟")),
        ("Martin, Élodie", "Martin", ("Martin", "Élodie")),
        ("María José García López", "García López", ("García López", "María José")),
        ("Élodie Martin", "", ("", "")),
    ],
)
def test_split_name(name, family, expected):
    assert split_name(name, family) == expected


def test_a_family_name_must_be_part_of_the_full_name():
    assert clean_family_name("  Martin ", "Élodie Martin") == "Martin"
    assert clean_family_name("", "Élodie Martin") == ""
    for wrong in ("Dupont", "martin", "Élodie Martin"):
        with pytest.raises(InvalidInput) as exc:
            clean_family_name(wrong, "Élodie Martin")
        assert exc.value.field == "family_name"
    with pytest.raises(InvalidInput):
        clean_family_name("Mar\u202etin", "Élodie Mar\u202etin")
    with pytest.raises(InvalidInput):
        clean_family_name("x" * 5000, "Élodie Martin")


def test_the_profile_sets_it_and_a_new_name_must_keep_it(catalog, make_member, outbox):
    ana = make_member(catalog["fr"], name="Élodie Martin", email="elodie@nic.fr")
    make_member(catalog["fr"], name="Marc Dubois", email="marc@nic.fr")
    me = Actor.of(ana, "web")
    actions.update_profile(ana, ProfileChange(family_name="Martin"), actor=me)
    assert Person.objects.get(pk=ana.pk).family_name == "Martin"
    assert AuditEntry.objects.filter(action="profile-updated", person=ana).count() == 1
    assert outbox("colleague-notice") == []  # nothing a colleague reads has changed
    # A new spelling without the family name: refused with every problem at once, nothing saved.
    with pytest.raises(DirectoryError) as exc:
        actions.update_profile(
            ana, ProfileChange(name="Élodie Durand", timezone="Mars/Base"), actor=me
        )
    assert {e.field for e in exc.value.errors} == {"family_name", "timezone"}
    ana.refresh_from_db()
    assert (ana.name, ana.family_name) == ("Élodie Martin", "Martin")
    # Both together, or clearing it, are fine.
    actions.update_profile(ana, ProfileChange(name="Élodie Durand", family_name="Durand"), actor=me)
    ana.refresh_from_db()
    assert (ana.name, ana.family_name, ana.given_names) == ("Élodie Durand", "Durand", "Élodie")
    actions.update_profile(ana, ProfileChange(family_name=""), actor=me)
    assert Person.objects.get(pk=ana.pk).family_name == ""


def test_vcard_n_is_structured_only_where_the_person_said(catalog, make_member):
    elodie = make_member(catalog["fr"], name="Élodie Martin", email="elodie@nic.fr")
    make_member(catalog["nl"], name="Jan Jansen", email="jan@nic.nl")
    actions.update_profile(
        elodie, ProfileChange(family_name="Martin"), actor=Actor.of(elodie, "web")
    )
    text = render.vcard(snapshot.take())
    assert "N:Martin;Élodie;;;\r\n" in text and "N:Élodie Martin;;;;" not in text
    assert "N:;;;;\r\n" in text  # Jan said nothing: FN alone carries his name
    cards = {c.fn.value: c for c in vobject.readComponents(text)}
    assert cards["Élodie Martin"].n.value.family == "Martin"
    assert cards["Élodie Martin"].n.value.given == "Élodie"
    assert cards["Jan Jansen"].n.value.family == ""


def test_an_ascension_number_is_read_as_ascension(make_tld):
    ac = make_tld("ac", iso_code="SH", reserved_code="AC", country_name="Ascension Island")
    sh = make_tld("sh", iso_code="SH", country_name="Saint Helena")
    assert (ac.phone_region, sh.phone_region) == ("AC", "SH")
    (m,) = _invite_and_authorise(
        ac, [ContactInput(name="Ann Ascension", email="ann@nic.ac", phones=[("62889", "24/7")])]
    )
    assert [p.number for p in m.person.phones.all()] == ["+24762889"]
    (m,) = _invite_and_authorise(
        sh, [ContactInput(name="Sam Helena", email="sam@nic.sh", phones=[("22889", "office")])]
    )
    assert [p.number for p in m.person.phones.all()] == ["+29022889"]
