"""Over-long requests through the real server (``tldops web``: gunicorn workers and Django)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tests.ops.test_run import env  # noqa: F401 - fixture
from tests.ops.test_web_workers import web  # noqa: F401 - fixture


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_a_5000_character_query_gets_our_414_not_gunicorns_page(web):  # noqa: F811
    _proc, _log, address = web
    status, ctype, body = fetch(f"http://{address}/archive/search/?q={'x' * 5000}")
    assert status == 414 and ctype.startswith("text/html")
    assert b"Address too long" in body and b"Request Line is too large" not in body

    status, ctype, body = fetch(f"http://{address}/api/v1/archive/search?q={'x' * 5000}")
    assert status == 414 and ctype == "application/json"
    assert "at most 2048 characters" in json.loads(body)["detail"]

    # Up to gunicorn's maximum request line (8,190 bytes) the answer is ours; beyond it gunicorn
    # refuses the request itself, with its own bare 414 page.
    status, _ctype, body = fetch(f"http://{address}/?q={'x' * 8100}")
    assert status == 414 and b"Address too long" in body
    status, _ctype, body = fetch(f"http://{address}/?q={'x' * 9000}")
    assert status == 414 and b"Address too long" not in body
