import pytest
from hypothesis import given
from hypothesis import strategies as st

from tldops.directory.errors import InvalidInput
from tldops.directory.validation import (
    clean_email,
    clean_languages,
    clean_phone,
    clean_timezone,
    resolve_tld,
)


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
