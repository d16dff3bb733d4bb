"""Member pages: directory (with htmx search), catalog, profile, leaving, API tokens."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tldops.catalog.models import NameServer
from tldops.directory.models import ApiToken, AuditEntry, Membership, Person
from tldops.directory.tokens import person_for_token


def test_directory_groups_contacts_by_cctld(member_client, catalog, make_member):
    make_member(catalog["nl"], name="Jan Jansen", phones=[("+31 20 123 4567", "mobile")])
    html = member_client.get("/directory/").content.decode()
    assert html.index('id="tld-fr"') < html.index('id="tld-nl"')
    assert "Jan Jansen" in html and "+31 20 123 4567" in html and "(mobile)" in html
    assert 'contact 1 of <bdi dir="ltr">.nl</bdi>' in html
    assert "Remove Jan Jansen" not in html  # members cannot remove


def test_directory_search_returns_a_partial_for_htmx(member_client, catalog, make_member):
    make_member(catalog["nl"], name="Jan Jansen")
    response = member_client.get("/directory/?q=jansen", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and "<header" not in html
    assert "Jan Jansen" in html and "Ana Lopez" not in html
    full = member_client.get("/directory/?q=jansen").content.decode()
    assert "<html" in full and 'hx-get="/directory/"' in full and "Ana Lopez" not in full
    # Going back in history, htmx asks for the whole page again.
    restored = member_client.get(
        "/directory/?q=jansen", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restored.content.decode()


def test_directory_page_queries_do_not_grow_with_members(member_client, catalog, make_member):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert member_client.get("/directory/").status_code == 200
        return len(ctx.captured_queries)

    for i in range(2):
        make_member(catalog["nl"], name=f"Small {i}", email=f"s{i}@nic.nl")
    small = count()  # 3 members, 2 ccTLDs
    emails = iter(range(100))
    for code in ("fr", "nl", "br", "ca", "ua", "xn--p1ai"):
        while Membership.objects.filter(tld=catalog[code], status="active").count() < 3:
            n = next(emails)
            make_member(catalog[code], name=f"Big {n}", email=f"b{n}@{code}.example")
    assert Membership.objects.filter(status="active").count() == 18
    assert count() == small


def test_catalog_and_tld_page(member_client, catalog):
    NameServer.objects.create(
        tld=catalog["fr"], hostname="d.nic.fr", ipv4=["194.0.9.1"], ipv6=["2001:678:c::1"]
    )
    html = member_client.get("/catalog/").content.decode()
    assert ".рф" in html and "Russian Federation" in html and "Netherlands Antilles" not in html
    assert 'href="/catalog/fr/"' in html
    partial = member_client.get("/catalog/?q=brazil", headers={"HX-Request": "true"})
    assert "Brazil" in partial.content.decode() and "France" not in partial.content.decode()
    page = member_client.get("/catalog/fr/").content.decode()
    assert "d.nic.fr" in page and "194.0.9.1" in page and "2001:678:c::1" in page
    assert "admin@nic.fr" in page and "CENTR" in page
    assert 'name="region"' not in page  # only the committee tags regions
    assert member_client.get("/catalog/рф/").status_code == 200
    assert member_client.get("/catalog/qq/").status_code == 404


def test_members_cannot_tag_regions(member_client, catalog):
    response = member_client.post("/catalog/br/", {"region": "centr", "action": "add"})
    assert response.status_code == 403
    assert not catalog["br"].regions.filter(code="centr").exists()


def test_committee_tags_and_untags_a_region(client, staff_client, catalog):
    committee = staff_client(role="committee", email="chair@tldops.example")
    assert 'name="region"' in committee.get("/catalog/br/").content.decode()
    committee.post("/catalog/br/", {"region": "centr", "action": "add"})
    assert catalog["br"].regions.filter(code="centr").exists()
    committee.post("/catalog/br/", {"region": "centr", "action": "remove"})
    assert not catalog["br"].regions.filter(code="centr").exists()
    assert AuditEntry.objects.filter(action__contains="region", tld=catalog["br"]).count() == 2


def test_secretariat_cannot_tag_regions(staff_client, catalog):
    client = staff_client()
    assert client.post("/catalog/br/", {"region": "centr"}).status_code == 403


def test_profile_update_and_field_errors(member_client, outbox):
    person = member_client.person
    page = member_client.get("/profile/").content.decode()
    assert 'value="+33123456789"' in page and 'value="Europe/Paris"' in page
    response = member_client.post(
        "/profile/",
        {
            "name": "Ana Lopez",
            "phone0": "+33 6 12 34 56 78",
            "label0": "mobile",
            "phone1": "+33 1 23 45 67 89",
            "label1": "24/7",
            "timezone": "America/Montreal",
            "languages": "es, fr",
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.timezone == "America/Montreal" and person.languages == ["es", "fr"]
    assert [(p.number, p.label) for p in person.phones.all()] == [
        ("+33612345678", "mobile"),
        ("+33123456789", "24/7"),
    ]
    bad = member_client.post(
        "/profile/", {"name": "Ana Lopez", "phone0": "12", "timezone": "Mars/Olympus"}
    )
    html = bad.content.decode()
    assert bad.status_code == 400 and "not a valid phone number" in html
    assert "Unknown time zone “Mars/Olympus”" in html  # every field's error at once
    assert 'value="Mars/Olympus"' in html  # what was typed stays in the form
    person.refresh_from_db()
    assert person.timezone == "America/Montreal"


def test_profile_family_name(member_client):
    person = member_client.person
    form = {"name": "Ana Lopez", "phone0": "+33 1 23 45 67 89", "label0": "office"}
    assert 'id="profile-family-name"' in member_client.get("/profile/").content.decode()
    response = member_client.post("/profile/", {**form, "family_name": "Lopez"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.family_name == "Lopez" and person.given_names == "Ana"
    bad = member_client.post("/profile/", {**form, "family_name": "Garcia"})
    html = bad.content.decode()
    assert bad.status_code == 400 and "must be part of your full name" in html
    assert 'value="Garcia"' in html  # what was typed is shown again
    assert Person.objects.get(pk=person.pk).family_name == "Lopez"


def test_a_megabyte_name_in_the_profile_form_is_refused_and_nothing_changes(member_client, outbox):
    person = member_client.person
    before = person.snapshot()
    response = member_client.post(
        "/profile/",
        {"name": "A" * 1_000_000, "phone0": "+33 6 12 34 56 78", "label0": "mobile"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "at most 200 characters" in html
    person.refresh_from_db()
    assert person.snapshot() == before
    assert not outbox("colleague-notice")
    assert not AuditEntry.objects.filter(action="profile-updated").exists()


def test_leave_needs_confirmation(member_client):
    person = member_client.person
    response = member_client.post("/profile/leave/", {"tld": "fr"})
    assert response.status_code == 400 and "Tick the box" in response.content.decode()
    assert person.memberships.get().status == "active"
    response = member_client.post("/profile/leave/", {"tld": "fr", "confirm": "yes"})
    assert response.status_code == 302
    assert person.memberships.get().status == "left"
    assert member_client.get("/directory/").status_code == 403


def test_api_token_shown_once_and_revoked(member_client):
    response = member_client.post("/profile/tokens/", {"action": "create", "name": "probe"})
    html = response.content.decode()
    plaintext = html.split('<code id="new-token">')[1].split("</code>")[0]
    assert person_for_token(plaintext) == member_client.person
    listing = member_client.get("/profile/tokens/").content.decode()
    assert plaintext not in listing and "probe" in listing
    token = ApiToken.objects.get()
    member_client.post("/profile/tokens/", {"action": "revoke", "token_id": str(token.pk)})
    assert person_for_token(plaintext) is None
    bad = member_client.post("/profile/tokens/", {"action": "create", "name": ""})
    assert bad.status_code == 400


def test_directory_pages_through_contacts(member_client, catalog, make_member):
    from tldops.web.views import members

    members.DIRECTORY_PAGE_SIZE, saved = 2, members.DIRECTORY_PAGE_SIZE
    try:
        make_member(catalog["nl"], name="Jan Jansen")
        make_member(catalog["ca"], name="Cy Roy")
        first = member_client.get("/directory/").content.decode()
        second = member_client.get("/directory/?page=2").content.decode()
    finally:
        members.DIRECTORY_PAGE_SIZE = saved
    assert "Page 1 of 2" in first and "Ana Lopez" in first and "Jan Jansen" not in first
    assert "Page 2 of 2" in second and "Jan Jansen" in second and "Ana Lopez" not in second


def test_cached_pages_change_as_soon_as_the_directory_does(
    member_client, client, catalog, make_member
):
    before = client.get("/").content.decode()
    assert "Jan Jansen" not in member_client.get("/directory/").content.decode()
    member_client.get("/directory/")  # served from the cache this time
    make_member(catalog["nl"], name="Jan Jansen")
    assert "Jan Jansen" in member_client.get("/directory/").content.decode()
    after = client.get("/").content.decode()
    covered = after.split('id="not-yet"')[0]
    assert ".nl" in covered and ".nl" not in before.split('id="not-yet"')[0]
