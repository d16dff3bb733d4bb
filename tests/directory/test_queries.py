"""Reads issue a fixed number of SQL queries, whatever the number of members (no N+1)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tldops.directory import queries


def count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def directory_read():
    for m in queries.directory_memberships():
        _ = (m.person.name, m.tld.alabel, [p.number for p in m.person.phones.all()])


def test_directory_and_coverage_queries_do_not_grow_with_members(catalog, make_member):
    make_member(catalog["fr"], name="Ana One")
    small = (count_queries(directory_read), count_queries(queries.coverage))
    for tld in ("nl", "br", "ca", "ua"):
        for name in ("Bo Two", "Cy Three"):
            make_member(catalog[tld], name=name, email=f"{name.split()[0].lower()}@{tld}.example")
    large = (count_queries(directory_read), count_queries(queries.coverage))
    assert small == large


def test_coverage_counts_only_active_contacts_of_delegated_tlds(catalog, make_member):
    make_member(catalog["fr"])
    cov = queries.coverage()
    assert [t.alabel for t in cov.members] == ["fr"]
    assert "an" not in {t.alabel for t in cov.not_subscribed}  # retired: not counted at all
    assert (cov.overall.covered, cov.overall.total) == (1, 6)
    assert cov.by_kind["idn"].covered == 0 and cov.by_kind["idn"].total == 1
    assert (cov.by_region["centr"].covered, cov.by_region["centr"].total) == (1, 2)
    assert cov.overall.percent == 16.7
