"""Catalog reads and region tags: who may tag, the audit entry, constant query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tldops.catalog import services
from tldops.catalog.baseline import seed_regions
from tldops.catalog.models import NameServer, Tld
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry
from tldops.kernel.errors import InvalidInput, NotAuthorised, NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions(db):
    seed_regions()


def test_committee_tags_and_untags_with_audit(catalog, regions, staff):
    chair = staff("committee", "chair@tldops.example", "chair")
    actor = Actor.of(chair, "web")
    ua = catalog["ua"]
    assert services.tag_region(ua, "CENTR", actor=actor) is True
    assert list(ua.regions.values_list("code", flat=True)) == ["centr"]
    assert services.tag_region(ua, "centr", actor=actor) is False  # already there: no change
    entry = AuditEntry.objects.get(action="catalog.tag_region")
    assert (entry.tld, entry.door, entry.actor_person) == (ua, "web", chair)
    assert (entry.before, entry.after) == ({"regions": []}, {"regions": ["centr"]})
    assert services.tag_region("ua", "centr", actor=actor, remove=True) is True
    assert not ua.regions.exists()
    assert AuditEntry.objects.filter(action="catalog.untag_region").count() == 1


@pytest.mark.parametrize("role", ["secretariat", None])
def test_only_the_committee_may_tag_through_web_or_api(catalog, regions, staff, role):
    actor = Actor.of(staff(role), "api") if role else Actor.system()
    with pytest.raises(NotAuthorised):
        services.tag_region(catalog["ua"], "centr", actor=actor)
    assert not catalog["ua"].regions.exists()
    assert not AuditEntry.objects.filter(action="catalog.tag_region").exists()


def test_the_cli_may_tag(catalog, regions):
    assert services.tag_region(catalog["ua"], "aptld", actor=Actor("cli:ops", "cli"))


def test_unknown_region_is_refused_with_the_known_ones(catalog, regions):
    with pytest.raises(InvalidInput) as exc:
        services.tag_region(catalog["ua"], "ripe", actor=Actor("cli:ops", "cli"))
    assert exc.value.field == "region" and "aftld, aptld, centr, lactld" in exc.value.message


@pytest.mark.parametrize("raw", ["fr", ".FR", " fr. "])
def test_detail_accepts_any_spelling(catalog, raw):
    assert services.tld_detail(raw).alabel == "fr"


@pytest.mark.parametrize("raw", ["рф", ".РФ", "xn--p1ai", "XN--P1AI"])
def test_detail_accepts_idn_spellings(catalog, raw):
    assert services.tld_detail(raw).alabel == "xn--p1ai"


def test_detail_of_unknown_is_not_found_and_retired_is_shown(catalog):
    with pytest.raises(NotFound):
        services.tld_detail("qq")
    assert services.tld_detail("an").delegated is False


def test_list_filters(catalog):
    assert [t.alabel for t in services.list_tlds(kind="idn")] == ["xn--p1ai"]
    assert [t.alabel for t in services.list_tlds(region="centr")] == ["fr", "nl"]
    assert "an" not in [t.alabel for t in services.list_tlds(delegated_only=True)]
    assert "an" in [t.alabel for t in services.list_tlds()]
    assert [t.alabel for t in services.list_tlds(search="рф")] == ["xn--p1ai"]
    assert [t.alabel for t in services.list_tlds(search="france")] == ["fr"]
    assert [t.alabel for t in services.list_tlds(search=".BR")] == ["br"]
    with pytest.raises(InvalidInput):
        services.list_tlds(kind="gtld")


def _count_queries(**filters) -> int:
    with CaptureQueriesContext(connection) as ctx:
        for tld in services.list_tlds(**filters):
            list(tld.nameservers.all())
            list(tld.regions.all())
    return len(ctx.captured_queries)


def test_list_uses_a_constant_number_of_queries(catalog, make_tld):
    few = _count_queries()
    for i in range(30):
        tld = make_tld(f"zz{i}")
        NameServer.objects.create(tld=tld, hostname=f"ns{i}.example", ipv4=["192.0.2.1"])
        tld.regions.add(*catalog["fr"].regions.all())
    assert Tld.objects.count() > 35
    assert _count_queries() == few == 3
