"""The API's directory listing issues a fixed number of SQL queries, whatever the number of members."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import ApiClient, token_for

CODES = ["de", "it", "es", "pt", "be", "ch", "at", "se", "no", "dk"]


def _count_queries(api: ApiClient, path: str, **query: object) -> tuple[int, dict]:
    api.get(path, **query)  # the first use of a token records when it was used
    cache.clear()  # count the page being built, not the cached answer
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(path, **query)
    assert response.status_code == 200, response.data
    return len(ctx.captured_queries), response.data


def test_directory_listing_queries_do_not_grow_with_members(make_tld, make_member, staff):
    tlds = [make_tld(code, iso_code=code.upper()) for code in CODES]
    for i in range(3):
        make_member(tlds[0], f"Person{i} Zero", phones=[("+49 30 1234567", "office")])
    api = ApiClient(token=token_for(staff("secretariat")))

    small, data = _count_queries(api, "/directory/contacts", limit=1000)
    assert data["count"] == 3

    for t in tlds[1:]:
        for i in range(3):
            make_member(
                t,
                f"Person{i} {t.alabel.upper()}",
                phones=[("+49 30 1234567", "office"), ("+49 170 1234567", "mobile")],
            )
    large, data = _count_queries(api, "/directory/contacts", limit=1000)
    assert data["count"] == 30
    assert all(len(c["phones"]) == 2 for c in data["items"] if c["tld"]["alabel"] != "de")
    assert large == small

    coverage_small, _ = _count_queries(ApiClient(), "/coverage")
    assert coverage_small <= 5
