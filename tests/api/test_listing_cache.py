"""The API's directory listing is cached under the directory version: fast, and never stale."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import ApiClient, token_for
from tldops.directory import actions
from tldops.directory.actions import ProfileChange
from tldops.directory.audit import Actor
from tldops.directory.models import Membership


def _get(api: ApiClient, **query: object) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get("/directory/contacts", **query)
    assert response.status_code == 200, response.data
    return response.data, [q["sql"] for q in ctx.captured_queries]


def _reads_the_directory(sql: list[str]) -> bool:
    """The listing's own queries: the contacts' phones and the count (the membership check that
    authorises the caller reads memberships too, on every request)."""
    return any('FROM "directory_phone"' in q or "COUNT(" in q for q in sql)


def test_a_repeated_listing_is_served_from_the_cache(catalog, make_member):
    member = make_member(catalog["fr"], "Ana Lopez")
    make_member(catalog["br"], "Bruno Silva", phones=[("+55 11 2345 6789", "office")])
    api = ApiClient(token=token_for(member))

    first, sql = _get(api)
    assert first["count"] == 2
    assert _reads_the_directory(sql)

    again, sql = _get(api)
    assert again == first
    assert not _reads_the_directory(sql)  # the cached page, not a new rendering

    # Filters, limit and offset are part of the key: each is its own page.
    only_br, _ = _get(api, tld="br")
    assert [c["name"] for c in only_br["items"]] == ["Bruno Silva"]
    second, _ = _get(api, limit=1, offset=1)
    assert second["count"] == 2 and len(second["items"]) == 1
    assert second["items"][0]["name"] != _get(api, limit=1, offset=0)[0]["items"][0]["name"]


def test_the_listing_changes_as_soon_as_the_directory_does(catalog, make_member, staff):
    member = make_member(catalog["fr"], "Ana Lopez")
    api = ApiClient(token=token_for(member))
    before, _ = _get(api)
    assert [c["name"] for c in before["items"]] == ["Ana Lopez"]
    _get(api)  # cached now

    # A new member (invitation, authorisation, confirmation) shows at once.
    make_member(catalog["br"], "Bruno Silva", phones=[("+55 11 2345 6789", "office")])
    added, sql = _get(api)
    assert sorted(c["name"] for c in added["items"]) == ["Ana Lopez", "Bruno Silva"]
    assert _reads_the_directory(sql)

    # So does a member's own edit of their details.
    actions.update_profile(
        member,
        ProfileChange(phones=[("+33 6 12 34 56 78", "mobile")]),
        actor=Actor.of(member, "web"),
    )
    edited, _ = _get(api)
    (ana,) = [c for c in edited["items"] if c["name"] == "Ana Lopez"]
    assert [p["label"] for p in ana["phones"]] == ["mobile"]

    # And a removal by the secretariat.
    bruno = Membership.objects.get(person__name="Bruno Silva")
    secretariat = staff("secretariat")
    actions.remove_contact(bruno, actor=Actor.of(secretariat, "api"), reason="on request")
    removed, _ = _get(api)
    assert [c["name"] for c in removed["items"]] == ["Ana Lopez"]
    assert removed["count"] == 1


def test_a_cached_listing_is_still_for_members_only(catalog, make_member):
    member = make_member(catalog["fr"], "Ana Lopez")
    _get(ApiClient(token=token_for(member)))  # cached now
    assert ApiClient().get("/directory/contacts").status_code == 401
    assert ApiClient(token="tldops_not-a-real-token").get("/directory/contacts").status_code == 401
