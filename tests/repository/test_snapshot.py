"""The snapshot: active contacts only, in A-label order, with every detail; and what changed."""

from __future__ import annotations

from tests.repository.conftest import ARABIC, CJK, CYRILLIC
from tldops.directory import actions
from tldops.directory.audit import Actor
from tldops.repository import snapshot


def test_take_lists_active_contacts_by_a_label(people, catalog, make_member):
    # A pending contact (authorised, not confirmed) is not listed.
    from tests.conftest import _invite_and_authorise
    from tldops.directory.validation import ContactInput

    _invite_and_authorise(catalog["ua"], [ContactInput(name="Pending One", email="p@nic.ua")])

    data = snapshot.take()
    assert [t["alabel"] for t in data["tlds"]] == ["br", "fr", "nl", "xn--p1ai"]
    assert data["cctlds"] == 4
    assert data["people"] == 5
    assert data["contacts"] == 6  # Mohammed is listed under .fr and .nl
    idn = data["tlds"][-1]
    assert idn["idn"] is True and idn["ulabel"] == "рф" and idn["country"] == "Russian Federation"
    fr = data["tlds"][1]
    assert fr["regions"] == ["centr"]
    assert [c["name"] for c in fr["contacts"]] == ["Ana Lopez", ARABIC]
    assert [c["number"] for c in fr["contacts"]] == [1, 2]
    ana = fr["contacts"][0]
    assert ana["person"] == people.ana.pk
    assert ana["emails"] == ["ana@nic.fr"]
    assert ana["phones"] == [
        {"number": "+33123456789", "label": "office", "display": "+33 1 23 45 67 89"},
        {"number": "+33612345678", "label": "24/7", "display": "+33 6 12 34 56 78"},
    ]
    assert ana["timezone"] == "Europe/Paris" and ana["languages"] == ["en"]
    assert ana["key"] == ""  # no openpgp app yet
    nl = data["tlds"][2]
    wei = next(c for c in nl["contacts"] if c["name"] == CJK)
    assert wei["phones"] == []
    mohammed_ids = {c["person"] for _t, c in snapshot.contacts(data) if c["name"] == ARABIC}
    assert mohammed_ids == {people.mohammed.pk}


def test_key_fingerprint_hook_is_empty_until_the_openpgp_app_exists(people):
    assert snapshot.key_fingerprint(people.ana) == ""
    assert snapshot.key_fingerprints([people.ana, people.olga]) == {}


def test_the_app_that_keeps_keys_hands_its_look_up_over(people):
    """What the openpgp app will do in its AppConfig.ready: the snapshot then shows the keys."""
    fpr = "0123 4567 89ab cdef 0123 4567 89AB CDEF 0123 4567"
    snapshot.set_fingerprint_source(
        lambda ids: {people.ana.pk: fpr} if people.ana.pk in ids else {}
    )
    try:
        assert snapshot.key_fingerprints([people.ana, people.olga]) == {
            people.ana.pk: "0123456789ABCDEF0123456789ABCDEF01234567"
        }
        assert snapshot.take()  # the edition's data reads it too
    finally:
        snapshot.set_fingerprint_source(None)


def test_changes_joined_left_changed(people, catalog, make_member):
    before = snapshot.take()
    assert snapshot.changes(None, before) == {"joined": [], "left": [], "changed": []}

    # Olga leaves; Bruno joins; Ana changes her phones and time zone.
    actions.leave(people.olga, actor=Actor.of(people.olga, "web"))
    bruno = make_member(catalog["ua"], "Bruno Silva", email="bruno@nic.ua")
    actions.update_profile(
        people.ana,
        actions.ProfileChange(phones=[("+33 1 23 45 67 00", "office")], timezone="Europe/Madrid"),
        actor=Actor.of(people.ana, "web"),
    )
    after = snapshot.take()
    result = snapshot.changes(before, after)
    assert result["joined"] == [{"person": bruno.pk, "name": "Bruno Silva", "tlds": ["ua"]}]
    assert result["left"] == [{"person": people.olga.pk, "name": CYRILLIC, "tlds": ["xn--p1ai"]}]
    assert result["changed"] == [
        {"person": people.ana.pk, "name": "Ana Lopez", "tlds": ["fr"],
         "fields": ["phones", "timezone"]}
    ]  # fmt: skip
    # No change at all: nothing reported.
    assert snapshot.changes(after, snapshot.take()) == {"joined": [], "left": [], "changed": []}
