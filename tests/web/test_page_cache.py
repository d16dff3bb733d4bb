"""Whole pages cached under the directory version (web/fragments.py: cached_page), the database
session read (web/sessions.py) and the person fetched with their membership (permissions)."""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.web.conftest import sign_in
from tldops.directory import permissions
from tldops.web import fragments

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_values(html: str) -> set[str]:
    header = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert header, "no CSRF token in hx-headers"
    return {header.group(1), *CSRF_INPUT.findall(html)}


def test_each_person_gets_their_own_working_csrf_token_from_the_cached_page(
    member_client, catalog, make_member
):
    other = Client()
    assert sign_in(other, make_member(catalog["nl"], name="Jan Jansen")).status_code == 302
    other.handler.enforce_csrf_checks = True  # as a browser: from here on, CSRF is checked
    mine = member_client.get("/directory/").content.decode()
    theirs = other.get("/directory/").content.decode()  # from the cache this time
    assert fragments.CSRF_HOLE not in theirs and fragments.PATH_HOLE not in theirs
    (token,) = csrf_values(theirs)  # one token, in the header and in every form
    assert token not in csrf_values(mine)
    # The token works: the language form posts with it (and without it, it is refused).
    assert (
        other.post("/i18n/setlang/", {"language": "fr", "next": "/directory/"}).status_code == 403
    )
    posted = other.post(
        "/i18n/setlang/",
        {"language": "fr", "next": "/directory/", "csrfmiddlewaretoken": token},
    )
    assert posted.status_code == 302


def test_the_language_form_returns_to_the_address_asked_escaped(member_client):
    member_client.get("/directory/?q=a")  # cached under the search "a"
    html = member_client.get("/directory/?q=a&x=%22%3E%3Cb%3E").content.decode()
    assert 'name="next" value="/directory/?q=a&amp;x=%22%3E%3Cb%3E"' in html


def test_cached_pages_follow_the_role_and_the_language(member_client, staff_client):
    member = member_client.get("/directory/").content.decode()
    assert "Invitations" not in member
    french = member_client.get("/directory/", headers={"Accept-Language": "fr"})
    assert french.content.decode() != member and 'lang="fr"' in french.content.decode()
    staff = staff_client().get("/directory/").content.decode()
    assert "Invitations" in staff


def test_anonymous_and_members_get_different_coverage_pages(member_client):
    anonymous = Client().get("/").content.decode()
    member = member_client.get("/").content.decode()
    assert "Sign in" in anonymous and "Sign in" not in member
    assert "Sign out" in member and "Sign out" not in Client().get("/").content.decode()


def test_pending_messages_are_shown_once_not_cached(member_client):
    Client().get("/")  # the anonymous coverage page is in the cache
    response = member_client.post("/logout/")  # leaves "You are signed out." for the next page
    assert response.status_code == 302 and response["Location"] == "/"
    assert "You are signed out." in member_client.get("/").content.decode()
    assert "You are signed out." not in member_client.get("/").content.decode()


def test_a_cached_page_reading_the_user_fails_instead_of_sharing_it(member_client, tmp_path):
    templates = tmp_path / "templates"
    (templates / "web").mkdir(parents=True)
    (templates / "web" / "leaky.html").write_text("<p>{{ user.email }}</p>")
    from django.test import RequestFactory

    request = RequestFactory().get("/leaky/")
    request.user = member_client.person.user
    request.session = member_client.session
    from django.test import override_settings

    engine = {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [str(templates)],
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
    with override_settings(TEMPLATES=[engine]), pytest.raises(fragments.NotInShell) as exc:
        fragments.cached_page(request, "web/leaky.html", dict, name="leaky", parts=())
    assert "user.email" in str(exc.value)


def test_an_expired_or_deleted_session_signs_out(member_client):
    assert member_client.get("/directory/").status_code == 200
    key = member_client.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now())
    response = member_client.get("/directory/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_member_page_reads_the_person_and_membership_in_one_query(member_client):
    member_client.get("/directory/")
    with CaptureQueriesContext(connection) as ctx:
        assert member_client.get("/directory/").status_code == 200
    tables = [q["sql"] for q in ctx.captured_queries]
    # session, user, person with membership, directory version: nothing else.
    assert len(tables) == 4, tables
    assert sum("directory_membership" in sql for sql in tables) == 1


@pytest.mark.parametrize("status", ["active", "ended", None])
def test_is_member_follows_the_membership(db, catalog, make_member, django_user_model, status):
    person = make_member(catalog["fr"], name="Ana Lopez")
    if status is None:
        person.memberships.all().delete()
    else:
        person.memberships.update(status=status)
    user = django_user_model.objects.get(pk=person.user_id)  # a fresh user, as in a request
    assert permissions.person_of(user) == person
    assert permissions.is_member(user) is (status == "active")
    # The same answer when the person comes without the flag (as with an API token).
    fresh = django_user_model.objects.select_related("person").get(pk=person.user_id)
    assert permissions.is_member(fresh) is (status == "active")


def test_pager_links_carry_no_other_members_query_string(
    member_client, catalog, make_member, monkeypatch
):
    """The cached directory page's "Next" link is built from the search and the page only: a
    parameter one member put in their address (here a ``next`` to another site) is not served to
    the next member in their pager links."""
    from tldops.web.views import members

    monkeypatch.setattr(members, "DIRECTORY_PAGE_SIZE", 1)
    other = Client()
    assert sign_in(other, make_member(catalog["nl"], name="Jan Jansen")).status_code == 302
    poisoned = member_client.get("/directory/?next=https://evil.example/&page=1").content.decode()
    assert 'href="?page=2" rel="next"' in poisoned
    html = other.get("/directory/?page=1").content.decode()  # from the cache
    assert 'rel="next"' in html and "evil.example" not in html
    assert 'href="?page=2" rel="next"' in html
    # The search is kept in the links, and only it.
    searched = other.get("/directory/?q=nic&page=1&utm=x").content.decode()
    assert 'href="?q=nic&amp;page=2" rel="next"' in searched
