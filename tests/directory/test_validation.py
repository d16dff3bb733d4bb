import pytest
from hypothesis import given
from hypothesis import strategies as st

from tldops.catalog.lookup import resolve_tld
from tldops.directory.validation import (
    NAME_MAX_LENGTH,
    ContactInput,
    clean_contact,
    clean_email,
    clean_languages,
    clean_name,
    clean_phone,
    clean_phones,
    clean_text,
    clean_timezone,
    shown,
)
from tldops.kernel.errors import InvalidInput


def test_email_domains_are_normalised_and_idna_encoded():
    assert clean_email(" Ana@NIC.FR ") == "Ana@nic.fr"
    assert clean_email("info@пример.рф") == "info@xn--e1afmkfd.xn--p1ai"
    for bad in ("", "ana", "ana@", "@nic.fr", "ana@@nic.fr", "ana@nic..fr"):
        with pytest.raises(InvalidInput):
            clean_email(bad)


def test_phones_are_stored_e164():
    assert clean_phone("+1 613 555 0100") == "+16135550100"
    assert clean_phone("01 23 45 67 89", region="FR") == "+33123456789"
    with pytest.raises(InvalidInput, match="international form"):
        clean_phone("01 23 45 67 89")
    with pytest.raises(InvalidInput, match="not a valid"):
        clean_phone("+33 12")


@given(st.text(max_size=30))
def test_phone_parsing_never_crashes(text):
    try:
        result = clean_phone(text)
    except InvalidInput:
        return
    assert result.startswith("+") and result[1:].isdigit()


def test_time_zones_and_languages():
    assert clean_timezone("America/Toronto") == "America/Toronto"
    with pytest.raises(InvalidInput):
        clean_timezone("Mars/Olympus")
    assert clean_languages("fr, EN, ara, French") == ["fr", "en", "ar"]
    with pytest.raises(InvalidInput):
        clean_languages("klingonish")


def test_resolve_tld_accepts_every_spelling(catalog):
    for text in ("fr", ".FR", " fr. "):
        assert resolve_tld(text).alabel == "fr"
    for text in ("рф", ".РФ", "xn--p1ai"):
        assert resolve_tld(text).alabel == "xn--p1ai"


def test_resolve_tld_refuses_unknown_retired_and_look_alikes(catalog):
    with pytest.raises(InvalidInput, match="not a known"):
        resolve_tld("zz")
    with pytest.raises(InvalidInput, match="retired"):
        resolve_tld("an")
    assert resolve_tld("an", delegated_only=False).alabel == "an"
    with pytest.raises(InvalidInput, match="look-alike") as err:
        resolve_tld("uа")  # Latin u + Cyrillic а
    assert ".ua" in err.value.message
    with pytest.raises(InvalidInput, match=r"looks like \.ca"):
        resolve_tld("\u0441\u0430")  # Cyrillic es + a: all Cyrillic, but reads as .ca


# --- Bounds (issue 7, item 4) ------------------------------------------------------------------------


def test_names_are_one_line_of_at_most_the_limit():
    assert clean_name("  Ana \n\t Lopez ") == "Ana Lopez"
    assert clean_name("A" * NAME_MAX_LENGTH) == "A" * NAME_MAX_LENGTH
    assert clean_name("سارا أحمد") == "سارا أحمد"
    assert clean_name("Ana\u200dLopez") == "Ana\u200dLopez"  # joiners are part of some scripts
    for bad in ("", "   ", "A" * (NAME_MAX_LENGTH + 1), "A" * 1_000_000, "Ana\x00", "\u202eanA"):
        with pytest.raises(InvalidInput) as err:
            clean_name(bad)
        assert err.value.field == "name"


def test_a_refused_value_is_not_repeated_whole():
    assert shown("x" * 10) == "x" * 10
    assert len(shown("x" * 1_000_000)) <= 60
    for call in (
        lambda: clean_email("a" * 100 + "@" + "b" * 100),
        lambda: clean_timezone("Europe/" + "x" * 100_000),
        lambda: clean_languages(["x" * 30]),
        lambda: resolve_tld("x" * 100_000),
    ):
        with pytest.raises(InvalidInput) as err:
            call()
        assert len(err.value.message) < 200


def test_phones_are_counted_before_they_are_read(settings):
    settings.MAX_PHONES_PER_PERSON = 2
    two = [("+33 1 23 45 67 89", "office"), ("", "office"), ("+33 6 12 34 56 78", "mobile")]
    assert clean_phones(two) == [("+33123456789", "office"), ("+33612345678", "mobile")]
    with pytest.raises(InvalidInput, match="At most 2") as err:
        clean_phones([("not even a number", "office")] * 3)  # refused for the count, not the form
    assert err.value.field == "phones"
    with pytest.raises(InvalidInput):
        clean_phones([("", "office")] * 2000)


def test_a_contact_and_a_profile_are_held_to_the_same_rules():
    with pytest.raises(InvalidInput) as err:
        clean_contact(ContactInput(name="A" * 201, email="a@nic.fr"))
    assert err.value.field == "name"
    with pytest.raises(InvalidInput) as err:
        clean_contact(ContactInput(name="Ana", email="a@nic.fr", languages=["en"] * 11))
    assert err.value.field == "languages"


def test_free_texts_are_bounded_and_on_one_line():
    assert clean_text("  on the admin's\nrequest ", field_name="reason") == "on the admin's request"
    assert clean_text("", field_name="note") == ""
    with pytest.raises(InvalidInput):
        clean_text("", field_name="reason", required=True)
    with pytest.raises(InvalidInput) as err:
        clean_text("r" * 301, field_name="reason")
    assert err.value.field == "reason"
