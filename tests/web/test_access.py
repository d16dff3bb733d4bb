"""Who sees what: anonymous, member, staff (with and without a second factor)."""

import pytest

from tests.web.conftest import sign_in

MEMBER_PAGES = ["/directory/", "/catalog/", "/catalog/fr/", "/profile/tokens/"]
STAFF_PAGES = ["/invitations/", "/audit/", "/staff/", "/staff/outbox/"]
SIGNED_IN_PAGES = ["/home/", "/profile/", "/profile/leave/"]


@pytest.mark.parametrize("url", MEMBER_PAGES + STAFF_PAGES + SIGNED_IN_PAGES)
def test_anonymous_is_sent_to_login(client, catalog, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_anonymous_sees_coverage_without_any_person_data(client, catalog, make_member):
    make_member(catalog["fr"], name="Ana Lopez", email="ana@nic.fr")
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "France" in html and ".fr" in html
    assert "Ana" not in html and "ana@nic.fr" not in html and "+33" not in html


def test_member_sees_directory_but_not_staff_pages(member_client):
    assert member_client.get("/directory/").status_code == 200
    assert member_client.get("/catalog/").status_code == 200
    for url in STAFF_PAGES:
        response = member_client.get(url)
        assert response.status_code == 403
        assert "secretariat" in response.content.decode()


def test_member_home_links_by_role(member_client):
    html = member_client.get("/home/").content.decode()
    assert 'href="/directory/"' in html
    assert 'href="/invitations/"' not in html


def test_staff_without_device_is_sent_to_totp_setup(client, staff):
    person = staff()
    response = sign_in(client, person)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/2fa/")
    for url in STAFF_PAGES + ["/directory/", "/home/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/account/2fa/"), url


def test_staff_with_verified_session_sees_staff_pages(staff_client):
    client = staff_client()
    for url in STAFF_PAGES + ["/directory/", "/catalog/", "/home/"]:
        assert client.get(url).status_code == 200, url
    html = client.get("/home/").content.decode()
    assert 'href="/invitations/"' in html and 'href="/audit/"' in html


def test_signed_in_person_without_directory_entry_gets_403_not_500(client, db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("admin@example.net", password="x" * 20)
    client.login(username="admin@example.net", password="x" * 20)
    assert client.get("/profile/").status_code == 403
    assert client.get("/directory/").status_code == 403


def test_logout_needs_post(member_client):
    assert member_client.get("/logout/").status_code == 405
    response = member_client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert member_client.get("/directory/").status_code == 302
