"""The bound on query strings (tldops/web/limits.py): a proper 414, a page in the portal's look or
the API's JSON error, before any view runs. Through the real server: tests/ops/test_web_limits.py."""

from __future__ import annotations

from tests.web.test_headers import _assert_strict
from tldops.ops.supervisor import LIMIT_REQUEST_LINE, gunicorn_config
from tldops.web.limits import MAX_QUERY_STRING


def test_a_query_string_beyond_the_bound_gets_a_small_branded_414(client, catalog):
    long = "q=" + "x" * 4998  # the 5,000-character query of issue 9
    for method in ("get", "post"):
        response = getattr(client, method)(f"/?{long}")
        assert response.status_code == 414
        html = response.content.decode()
        assert "Address too long" in html and "TLD-OPS" in html and f"{MAX_QUERY_STRING}" in html
        assert "xxxxxxxxxx" not in html  # the refused address is not repeated
        assert len(html) < 10_000
        _assert_strict(response)
    at_bound = "q=" + "x" * (MAX_QUERY_STRING - 2)
    assert client.get(f"/?{at_bound}").status_code == 200


def test_the_api_answers_its_json_error(client, catalog):
    for path in ("/api/v1/directory/contacts", "/api/v1/nope", "/api/v1/openapi.json"):
        response = client.get(f"{path}?tld={'x' * 5000}")
        assert response.status_code == 414, path
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert body["field"] is None and f"at most {MAX_QUERY_STRING}" in body["detail"]


def test_gunicorn_lets_through_what_django_answers():
    """Its bounds are set knowingly: a request line up to its maximum reaches Django, which
    refuses long query strings itself; header bounds as documented."""
    cfg = gunicorn_config(access_log=False)
    assert cfg.limit_request_line == LIMIT_REQUEST_LINE == 8190
    assert LIMIT_REQUEST_LINE > MAX_QUERY_STRING + 1000  # room for the method, path and version
    assert cfg.limit_request_fields == 100
    assert cfg.limit_request_field_size == 8190
