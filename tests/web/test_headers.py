"""Security headers (tldops/web/headers.py): CSP without inline code, HSTS under https, no-store
on what carries member data."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.api.conftest import ApiClient, token_for
from tldops.web.headers import CONTENT_SECURITY_POLICY

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle=", re.IGNORECASE)
EVENT_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+=|hx-on", re.IGNORECASE)


def _assert_strict(response) -> None:
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
    assert not STYLE_ATTRIBUTE.search(html), STYLE_ATTRIBUTE.search(html)
    assert not EVENT_ATTRIBUTE.search(html), EVENT_ATTRIBUTE.search(html)


def test_public_pages_have_a_strict_csp_and_no_inline_code(client, catalog):
    for url in ("/", "/login/", "/manage/"):
        response = client.get(url)
        assert response.status_code == 200
        _assert_strict(response)
    html = client.get("/login/").content.decode()
    # htmx is told not to inject its <style>, not to eval, and to keep no copies of pages.
    assert '"includeIndicatorStyles": false' in html and '"allowEval": false' in html
    assert '"historyCacheSize": 0' in html


def test_member_pages_have_a_strict_csp_and_are_not_stored(member_client):
    for url in ("/home/", "/directory/", "/catalog/", "/profile/", "/profile/tokens/", "/"):
        response = member_client.get(url)
        assert response.status_code == 200, url
        _assert_strict(response)
        assert "no-store" in response["Cache-Control"], url
    # The QR code page of the second factor too.
    setup = member_client.get("/account/2fa/")
    _assert_strict(setup)
    assert "no-store" in setup["Cache-Control"]


def test_staff_pages_have_a_strict_csp(staff_client):
    client = staff_client()
    for url in ("/invitations/", "/audit/", "/reachability/", "/moderation/"):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_strict(response)


def test_anonymous_public_pages_may_be_cached(client, catalog):
    assert "no-store" not in client.get("/").get("Cache-Control", "")


def test_api_answers_with_member_data_are_not_stored(db, catalog, make_member):
    api = ApiClient(token=token_for(make_member(catalog["fr"])))
    response = api.get("/directory/contacts")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    ("base_url", "sent"), [("https://tldops.example", True), ("http://x", False)]
)
def test_hsts_when_the_public_address_is_https(settings, db, base_url, sent):
    settings.BASE_URL = base_url
    settings.SECURE_HSTS_SECONDS = 31536000
    response = Client().get("/login/")  # TLS ends at the proxy: the request itself is plain http
    assert ("Strict-Transport-Security" in response) is sent
    if sent:
        assert response["Strict-Transport-Security"] == "max-age=31536000"
