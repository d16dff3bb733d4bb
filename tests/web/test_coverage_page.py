"""The public coverage page: each column shows what its header says, natural country names, and
a filter that works without script (?q=) as well as with it (tests/e2e)."""

from __future__ import annotations

import re

import pytest

from tldops.catalog import services

pytestmark = pytest.mark.django_db


def _rows(html: str, table_id: str) -> list[list[str]]:
    table = html.split(f'id="{table_id}"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_columns_show_the_ulabel_the_alabel_and_a_natural_name(client, make_tld):
    make_tld("xn--p1ai", ulabel="рф", iso_code="RU", country_name="Russian Federation")
    make_tld("cd", country_name="Democratic Republic of the Congo")
    make_tld("fr", country_name="France")
    header = client.get("/").content.decode().split('id="open-tlds"')[1].split("</thead>")[0]
    assert re.findall(r"<th scope=\"col\">(.*?)</th>", header) == [
        "ccTLD",
        "A-label",
        "Country or territory",
    ]
    rows = _rows(client.get("/").content.decode(), "open-tlds")
    assert rows == [
        [".cd", "cd", "Democratic Republic of the Congo"],
        [".fr", "fr", "France"],
        [".рф", "xn--p1ai", "Russian Federation"],
    ]


@pytest.mark.parametrize(
    "q, expected",
    [
        ("рф", [".рф"]),
        ("xn--p1ai", [".рф"]),
        (".FR", [".fr"]),
        ("congo", [".cd"]),
        ("ru", [".рф"]),  # the ISO code, exactly
        ("zzz", []),
        ("", [".cd", ".fr", ".рф"]),
    ],
)
def test_the_filter_works_without_script(client, make_tld, q, expected):
    make_tld("xn--p1ai", ulabel="рф", iso_code="RU", country_name="Russian Federation")
    make_tld("cd", country_name="Democratic Republic of the Congo")
    make_tld("fr", country_name="France")
    html = client.get("/", {"q": q}).content.decode()
    shown = [r[0] for r in _rows(html, "open-tlds")] if 'id="open-tlds"' in html else []
    assert shown == expected
    assert f'value="{q}"' in html
    # the shares still count every ccTLD
    assert re.search(r'id="share-overall"><th scope="row">[^<]*</th><td>0</td><td>3</td>', html)
    # the client-side filter is loaded from a static file (no inline script under the CSP)
    assert "/static/web/table-filter.js" in html and "<script>" not in html


def test_a_long_filter_is_cut(client, make_tld):
    make_tld("fr", country_name="France")
    response = client.get("/", {"q": "x" * 2000})  # longer query strings are refused (414)
    assert response.status_code == 200
    assert 'value="' + "x" * 100 + '"' in response.content.decode()


def test_matching_in_a_loaded_list(make_tld):
    fr = make_tld("fr", country_name="France")
    rf = make_tld("xn--p1ai", ulabel="рф", iso_code="RU", country_name="Russian Federation")
    assert services.matching([fr, rf], "РФ") == [rf]
    assert services.matching([fr, rf], "fran") == [fr]
    assert services.matching([fr, rf], "  ") == [fr, rf]
