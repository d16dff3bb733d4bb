"""ccTLD names in right-to-left pages (the ``bdi`` filter): ``.fr`` must not read ``fr.``."""

from __future__ import annotations

from django.template import Context, Template

TEMPLATE = Template(
    "{% load i18n web_tags %}{% blocktrans with t=x|bdi %}Contacts of {{ t }}{% endblocktrans %}"
    '|{{ tld|bdi }}|{{ tld|bdi:"alabel" }}|{{ row|bdi }}'
)


def test_a_cctld_name_is_isolated_left_to_right_and_escaped(catalog):
    out = TEMPLATE.render(
        Context({"x": '<i>.fr</i>"', "tld": catalog["xn--p1ai"], "row": {"ulabel": "<b>"}})
    )
    blocktrans, unicode, ascii_, row = out.split("|")
    # Passed into a blocktrans sentence: wrapped once, its content still escaped.
    assert blocktrans == 'Contacts of <bdi dir="ltr">&lt;i&gt;.fr&lt;/i&gt;&quot;</bdi>'
    assert unicode == '<bdi dir="ltr">.рф</bdi>'
    assert ascii_ == '<bdi dir="ltr">.xn--p1ai</bdi>'
    assert row == '<bdi dir="ltr">.&lt;b&gt;</bdi>'


def test_arabic_catalog_pages_keep_the_dot_before_the_name(member_client, catalog):
    arabic = {"Accept-Language": "ar"}
    page = member_client.get("/catalog/fr/", headers=arabic).content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert '<h1><bdi dir="ltr">.fr</bdi></h1>' in page
    assert '<dd><bdi dir="ltr">.fr</bdi></dd>' in page
    listing = member_client.get("/catalog/", headers=arabic).content.decode()
    assert '<a href="/catalog/xn--p1ai/"><bdi dir="ltr">.рф</bdi></a>' in listing
