"""ISO 3166-1 codes and names as the catalog shows them (tldops.catalog.countries)."""

from __future__ import annotations

import pytest

from tldops.catalog.countries import Country, country_info, natural_name


@pytest.mark.parametrize(
    "iso_name, natural",
    [
        ("Congo, The Democratic Republic of the", "Democratic Republic of the Congo"),
        ("Micronesia, Federated States of", "Federated States of Micronesia"),
        ("Palestine, State of", "State of Palestine"),
        ("Korea, Republic of", "Republic of Korea"),
        ("Iran, Islamic Republic of", "Islamic Republic of Iran"),
        ("Virgin Islands, British", "British Virgin Islands"),
        ("Virgin Islands, U.S.", "U.S. Virgin Islands"),
        # commas that belong to the name, and names without one, stay as they are
        (
            "Saint Helena, Ascension and Tristan da Cunha",
            "Saint Helena, Ascension and Tristan da Cunha",
        ),
        ("Bonaire, Sint Eustatius and Saba", "Bonaire, Sint Eustatius and Saba"),
        ("Holy See (Vatican City State)", "Holy See (Vatican City State)"),
        ("France", "France"),
        ("", ""),
        (", of", ", of"),
    ],
)
def test_natural_name_uninverts_iso_short_names(iso_name, natural):
    assert natural_name(iso_name) == natural


@pytest.mark.parametrize(
    "code, expected",
    [
        ("uk", Country("GB", "UK", "United Kingdom")),
        ("AC", Country("SH", "AC", "Ascension Island")),
        ("eu", Country("", "EU", "European Union")),
        ("su", Country("", "SU", "Soviet Union (legacy)")),
        ("cd", Country("CD", "", "Democratic Republic of the Congo")),
        ("sh", Country("SH", "", "Saint Helena, Ascension and Tristan da Cunha")),
        ("zz", Country("", "", "")),
        ("xn--p1ai", Country("", "", "")),
    ],
)
def test_country_info_gives_the_assigned_code_and_the_reserved_one(code, expected):
    assert country_info(code) == expected


@pytest.mark.django_db
def test_search_finds_a_cctld_by_its_assigned_or_its_reserved_code(make_tld):
    from tldops.catalog import services

    make_tld("uk", iso_code="GB", reserved_code="UK", country_name="United Kingdom")
    make_tld("ac", iso_code="SH", reserved_code="AC", country_name="Ascension Island")
    make_tld("sh", iso_code="SH", country_name="Saint Helena, Ascension and Tristan da Cunha")
    assert [t.alabel for t in services.list_tlds(search="gb")] == ["uk"]
    assert [t.alabel for t in services.list_tlds(search="AC")] == ["ac"]
    assert [t.alabel for t in services.list_tlds(search="sh")] == ["ac", "sh"]
