"""``catalog sync`` against a real local HTTP server serving IANA-format fixtures."""

from __future__ import annotations

import pytest

from tldops.catalog import sync
from tldops.catalog.models import NameServer, Tld
from tldops.directory.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def known(make_tld):
    """The catalog before the sync: .fr out of date, .nl and .рф without IANA data, .an still
    marked delegated although IANA no longer lists it."""
    fr = make_tld(
        "fr",
        country_name="France",
        manager="Old Manager",
        admin_org="Old Manager",
        admin_email="old-admin@nic.fr.example",
        tech_email="old-tech@nic.fr.example",
        has_ds=False,
    )
    NameServer.objects.create(tld=fr, hostname="old.nic.fr", ipv4=["192.0.2.99"])
    return {
        "fr": fr,
        "nl": make_tld("nl", country_name="Netherlands"),
        "xn--p1ai": make_tld(
            "xn--p1ai", ulabel="рф", iso_code="RU", country_name="Russian Federation"
        ),
        "an": make_tld("an", country_name="Netherlands Antilles", iso_code=""),
    }


def snapshot_and_plan():
    snapshot = sync.fetch_snapshot()
    return snapshot, sync.compute_plan(snapshot)


def test_snapshot_keeps_only_delegated_cctlds(iana_server):
    snapshot = sync.fetch_snapshot()
    # com and .онлайн are generic; .an and .bl are on the index but not delegated
    assert set(snapshot.tlds) == {"de", "fr", "nl", "xn--90ae", "xn--p1ai"}
    fr = snapshot.tlds["fr"]
    assert fr.has_ds is True and snapshot.tlds["nl"].has_ds is False
    assert fr.nameservers == [
        # no glue in the root zone for this host: the page's addresses are used
        {
            "hostname": "ns.anycast-example.net",
            "ipv4": ["198.51.100.53"],
            "ipv6": ["2001:db8:53::35"],
        },
        {"hostname": "ns1.nic.fr", "ipv4": ["192.0.2.1"], "ipv6": ["2001:db8:f0::1"]},
        {"hostname": "ns2.nic.fr", "ipv4": ["192.0.2.2"], "ipv6": ["2001:db8:f0::2"]},
    ]


def test_plan_shows_new_retired_and_changed(iana_server, known):
    _snapshot, plan = snapshot_and_plan()
    assert [o.alabel for o in plan.new] == ["de", "xn--90ae"]
    assert plan.retired == ["an"]
    changed = {c.alabel: {fc.field: fc for fc in c.changes} for c in plan.changed}
    assert set(changed) == {"fr", "nl", "xn--p1ai"}
    fr = changed["fr"]
    assert fr["manager"].before == "Old Manager"
    assert fr["manager"].after == "Association Fictive pour le Nommage Internet & la Coopération"
    assert fr["admin_email"].after == "tld-admin@nic.fr.example"
    assert fr["tech_email"].before == "old-tech@nic.fr.example"
    assert (fr["has_ds"].before, fr["has_ds"].after) == (False, True)
    assert [n["hostname"] for n in fr["nameservers"].before] == ["old.nic.fr"]
    text = "\n".join(plan.summary_lines())
    assert "2 new, 0 delegated again, 1 retired, 3 changed, 0 unchanged." in text
    assert "- retired  .an" in text
    assert "+ new      .бг (xn--90ae)" in text
    assert "~ .fr admin_email: old-admin@nic.fr.example → tld-admin@nic.fr.example" in text
    assert plan.as_dict()["retired"] == ["an"]


def test_computing_a_plan_changes_nothing(iana_server, known):
    before = list(Tld.objects.order_by("alabel").values())
    snapshot_and_plan()
    assert list(Tld.objects.order_by("alabel").values()) == before
    assert not AuditEntry.objects.exists()


def test_apply_writes_contacts_nameservers_glue_and_ds(iana_server, known):
    _snapshot, plan = snapshot_and_plan()
    counts = sync.apply_plan(plan)
    assert counts == {"new": 2, "restored": 0, "retired": 1, "changed": 3, "unchanged": 0}

    fr = Tld.objects.get(alabel="fr")
    assert fr.manager == "Association Fictive pour le Nommage Internet & la Coopération"
    assert (fr.admin_org, fr.admin_email) == (fr.manager, "tld-admin@nic.fr.example")
    assert fr.tech_email == "tld-tech@nic.fr.example"
    assert fr.has_ds is True and fr.synced_at is not None
    assert {(n.hostname, tuple(n.ipv4), tuple(n.ipv6)) for n in fr.nameservers.all()} == {
        ("ns.anycast-example.net", ("198.51.100.53",), ("2001:db8:53::35",)),
        ("ns1.nic.fr", ("192.0.2.1",), ("2001:db8:f0::1",)),
        ("ns2.nic.fr", ("192.0.2.2",), ("2001:db8:f0::2",)),
    }
    assert fr.country_name == "France"  # descriptive fields are not the sync's business

    nl = Tld.objects.get(alabel="nl")
    assert nl.has_ds is False and nl.tech_org == "Voorbeeld Technical Services B.V."

    bg = Tld.objects.get(alabel="xn--90ae")
    assert (bg.ulabel, bg.kind, bg.iso_code, bg.country_name) == ("бг", "idn", "BG", "Bulgaria")
    assert bg.admin_email == "admin@register.bg.example"
    assert list(bg.nameservers.values_list("ipv6", flat=True)) == [["2001:db8:b9::70"]]

    de = Tld.objects.get(alabel="de")
    assert (de.iso_code, de.country_name, de.has_ds) == ("DE", "Germany", True)
    assert not Tld.objects.filter(alabel__in=["com", "xn--80asehdb", "bl"]).exists()

    # one audit entry per changed ccTLD, by the system through the CLI
    entries = AuditEntry.objects.filter(action__startswith="catalog.sync.")
    assert sorted((e.action, e.tld.alabel) for e in entries) == [
        ("catalog.sync.new", "de"),
        ("catalog.sync.new", "xn--90ae"),
        ("catalog.sync.retire", "an"),
        ("catalog.sync.update", "fr"),
        ("catalog.sync.update", "nl"),
        ("catalog.sync.update", "xn--p1ai"),
    ]
    assert {(e.actor, e.door) for e in entries} == {("system", "cli")}
    fr_entry = entries.get(tld=fr)
    assert fr_entry.before["admin_email"] == "old-admin@nic.fr.example"
    assert fr_entry.after["admin_email"] == "tld-admin@nic.fr.example"


def test_a_retired_cctld_is_kept_not_deleted(iana_server, known):
    _snapshot, plan = snapshot_and_plan()
    sync.apply_plan(plan)
    an = Tld.objects.get(alabel="an")
    assert an.delegated is False and an.retired_at is not None


def test_second_sync_finds_nothing_to_do(iana_server, known):
    sync.apply_plan(snapshot_and_plan()[1])
    _snapshot, plan = snapshot_and_plan()
    assert plan.empty
    assert sorted(plan.unchanged) == ["de", "fr", "nl", "xn--90ae", "xn--p1ai"]


def test_a_change_at_iana_shows_up_as_one_field(iana_server, known):
    sync.apply_plan(snapshot_and_plan()[1])
    page = iana_server.page_dir / "nl.html"
    page.write_text(
        page.read_text(encoding="utf-8").replace(
            "admin@sidn.nl.example", "new-admin@sidn.nl.example"
        ),
        encoding="utf-8",
    )
    _snapshot, plan = snapshot_and_plan()
    assert [(c.alabel, [fc.field for fc in c.changes]) for c in plan.changed] == [
        ("nl", ["admin_email"])
    ]


def test_a_cctld_delegated_again_is_restored(iana_server, known):
    Tld.objects.filter(alabel="nl").update(delegated=False)
    _snapshot, plan = snapshot_and_plan()
    assert [o.alabel for o in plan.restored] == ["nl"]
    sync.apply_plan(plan)
    nl = Tld.objects.get(alabel="nl")
    assert nl.delegated and nl.retired_at is None and nl.admin_email == "admin@sidn.nl.example"


def test_unreachable_server_gives_a_clear_error_and_changes_nothing(unreachable_iana, known):
    before = list(Tld.objects.order_by("alabel").values())
    with pytest.raises(sync.NetworkUnavailable) as exc:
        sync.fetch_snapshot(timeout=5)
    assert "this command needs the internet; the catalog is unchanged" in str(exc.value)
    assert list(Tld.objects.order_by("alabel").values()) == before


def test_a_missing_page_stops_the_sync(iana_server, known):
    (iana_server.page_dir / "de.html").unlink()
    with pytest.raises(sync.SyncError) as exc:
        sync.fetch_snapshot()
    assert "HTTP 404" in str(exc.value) and "de.html" in str(exc.value)


def test_a_broken_download_is_refused(iana_server, known):
    (iana_server.root / "domain" / "root.zone").write_text("<html>maintenance</html>\n")
    with pytest.raises(sync.SyncError, match="could not be read"):
        sync.fetch_snapshot()


def test_mass_retirement_is_refused_unless_asked(iana_server, make_tld):
    for code in ("aa", "ab", "ac", "ad", "ae", "af", "ag"):
        make_tld(code)
    _snapshot, plan = snapshot_and_plan()
    assert len(plan.retired) == 7 and plan.mass_retirement
    with pytest.raises(sync.SyncError, match="allow-mass-retirement"):
        sync.apply_plan(plan)
    assert Tld.objects.filter(delegated=True).count() == 7
    sync.apply_plan(plan, allow_mass_retirement=True)
    assert Tld.objects.filter(delegated=True).count() == 5


def test_an_idn_missing_from_the_index_is_not_retired(iana_server, known):
    index = iana_server.page_dir / "index.html"
    html = index.read_text(encoding="utf-8")
    start = html.index(
        '<tr>\n        <td><span class="domain tld"><a href="/domains/root/db/xn--p1ai.html">'
    )
    end = html.index("</tr>", start) + len("</tr>")
    index.write_text(html[:start] + html[end:], encoding="utf-8")
    _snapshot, plan = snapshot_and_plan()
    assert "xn--p1ai" not in plan.retired
    assert "xn--p1ai" in {c.alabel for c in plan.changed}


def test_is_cctld():
    from tldops.catalog.iana import IndexEntry

    cc = IndexEntry("xn--90ae", "country-code", "", "")
    generic = IndexEntry("xn--80asehdb", "generic", "", "")
    assert sync.is_cctld("fr", None, set())
    assert not sync.is_cctld("com", None, set())
    assert sync.is_cctld("xn--90ae", cc, set())
    assert not sync.is_cctld("xn--80asehdb", generic, {"xn--80asehdb"})
    assert sync.is_cctld("xn--p1ai", None, {"xn--p1ai"})
    assert not sync.is_cctld("xn--p1ai", None, set())
