"""The playbooks' translation catalogs (playbooks.catalogs): up to date with the English, faithful
to its placeholders and lists, and a changed English paragraph marked for review."""

from __future__ import annotations

import copy
import re

import polib
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tldops.playbooks import catalogs, content

ITEM = re.compile(r"^(- |\d{1,2}\. )")
PAIRS = [(p, lang) for p in catalogs.SOURCES for lang in catalogs.LANGUAGES if lang != "en"]


@pytest.mark.parametrize(("playbook", "language"), PAIRS)
def test_every_catalog_exists_and_follows_the_english(playbook, language):
    assert catalogs.catalog_path(playbook, language).exists()
    assert not catalogs.stale(playbook, language), "run: tldops playbooks catalogs"


@pytest.mark.parametrize(("playbook", "language"), PAIRS)
def test_translations_keep_placeholders_and_list_shape(playbook, language):
    for entry in catalogs.iter_entries(playbook, language):
        if not entry.msgstr:
            continue
        where = f"{entry.msgctxt}: {entry.msgstr[:60]}"
        assert content.placeholders(entry.msgstr) == content.placeholders(entry.msgid), where
        items = [ITEM.match(line).group(1) for line in entry.msgid.split("\n") if ITEM.match(line)]
        if items:
            got = [
                ITEM.match(line).group(1) for line in entry.msgstr.split("\n") if ITEM.match(line)
            ]
            assert got == items, where
        assert "\n\n" not in entry.msgstr, where


def test_paragraphs_are_joined_and_lists_kept():
    text = "One line\nwrapped here.\n\n- item one\n  goes on\n- item two\n\n1. first\n   more\n2. second"
    assert catalogs.paragraphs(text) == [
        "One line wrapped here.",
        "- item one goes on\n- item two",
        "1. first more\n2. second",
    ]
    assert catalogs.paragraphs("Lead-in:\n- a\n- b") == ["Lead-in:", "- a\n- b"]


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """The DDoS playbook with catalogs in a scratch folder, and a way to change its English."""
    book = copy.deepcopy(content.load("ddos"))
    monkeypatch.setattr(catalogs, "LOCALE", tmp_path)
    monkeypatch.setattr(content, "load", lambda name: book)
    catalogs._catalog.cache_clear()
    yield book
    catalogs._catalog.cache_clear()


def _translate_all(language: str) -> None:
    path = catalogs.catalog_path("ddos", language)
    po = polib.pofile(str(path))
    for entry in po:
        entry.msgstr = "FR " + entry.msgid
    po.save(str(path))
    catalogs._catalog.cache_clear()


def test_a_changed_english_paragraph_is_marked_for_review(scratch):
    assert catalogs.update("ddos", "fr")
    _translate_all("fr")
    assert catalogs.localize("ddos", "fr").complete
    old = scratch["sections"][0]["title"]
    scratch["sections"][0]["title"] = old + " (revised)"
    assert catalogs.stale("ddos", "fr")
    assert catalogs.update("ddos", "fr")
    assert not catalogs.stale("ddos", "fr")
    entries = {
        e.msgctxt: e for e in catalogs.iter_entries("ddos", "fr") if e.msgctxt.endswith("/title")
    }
    changed = entries[f"{scratch['sections'][0]['id']}/title"]
    assert changed.fuzzy and changed.previous_msgid == old and changed.msgstr == "FR " + old
    catalogs._catalog.cache_clear()
    doc = catalogs.localize("ddos", "fr")
    assert doc.review == [changed.msgctxt]
    assert doc.book["sections"][0]["title"] == old + " (revised)"  # English until reviewed
    assert doc.book["sections"][1]["title"].startswith("FR ")
    # Unchanged units kept their translation, not marked.
    assert sum(e.fuzzy for e in catalogs.iter_entries("ddos", "fr")) == 1


def test_a_rewritten_paragraph_starts_empty_and_new_units_too(scratch):
    catalogs.update("ddos", "fr")
    _translate_all("fr")
    scratch["sections"][0]["title"] = "Something else entirely, nothing alike"
    scratch["sections"].append({"id": "extra", "title": "A new section", "text": "New text here."})
    catalogs.update("ddos", "fr")
    by = {(e.msgctxt, e.msgid): e for e in catalogs.iter_entries("ddos", "fr")}
    assert (
        by[
            (f"{scratch['sections'][0]['id']}/title", "Something else entirely, nothing alike")
        ].msgstr
        == ""
    )
    assert by[("extra/title", "A new section")].msgstr == ""
    catalogs._catalog.cache_clear()
    assert len(catalogs.localize("ddos", "fr").review) == 3


def test_the_command_checks_and_updates(scratch, capsys):
    for language in ("fr", "ar"):
        for source in catalogs.SOURCES:
            catalogs.update(source, language)
    call_command("playbooks", "catalogs", "--check")
    scratch["summary"] = scratch["summary"] + " More."
    with pytest.raises(CommandError, match="Out of date"):
        call_command("playbooks", "catalogs", "--check")
    call_command("playbooks", "catalogs")
    assert "updated" in capsys.readouterr().out
    call_command("playbooks", "catalogs", "--check")


def test_unknown_language_or_playbook_is_refused():
    with pytest.raises(KeyError):
        catalogs.localize("ddos", "de")
    with pytest.raises(KeyError):
        catalogs.localize("nope", "fr")


def test_injects_are_translated_by_inject_id():
    contexts = {u.context for u in catalogs.units("injects")}
    assert {"ddos-inject-traffic/title", "ddos-inject-traffic/text"} <= contexts
    assert all(c.split("/")[1] in ("title", "text") for c in contexts)
    book, english = catalogs.localized_injects("fr")
    first = content.deck("ddos", source=book)[0]
    assert first["id"] == "ddos-inject-traffic"
    if first["title"] == content.deck("ddos")[0]["title"]:
        assert first["title"] in english  # shown in English until a translator reviews it
