"""The alert pages of the portal (issue 10): the list, an alert, the form to raise one, reactions,
status and uploads; TLP enforced for every kind of reader, and no alert page kept in a cache."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.alerts.conftest import World, build_community, raise_as
from tests.alerts.test_services import EXPECTED
from tests.web.conftest import code_for, confirmed_device, sign_in
from tldops.alerts.models import Alert, AlertFilter, Indicator, Reaction
from tldops.directory.models import Person

#: A title per label, none a part of another nor of any page's own text.
TITLES = {
    "CLEAR": "Zulu-clear resolver flood",
    "CLEAR-public": "Yankee-public phishing kit",
    "GREEN": "Xray-green botnet sinkhole",
    "AMBER": "Whiskey-amber registrar panel",
    "AMBER+STRICT": "Victor-strict DGA seed",
    "RED": "Tango-red registry compromise",
}


@pytest.fixture
def world(catalog, make_member, staff) -> World:
    return build_community(catalog, make_member, staff)


def client_for(person: Person | None) -> Client:
    """A client signed in as ``person`` (staff with their second factor), or anonymous."""
    client = Client()
    if person is None or person.user is None:  # nobody, or named but not confirmed: no account
        return client
    if person.role in ("secretariat", "committee"):
        response = sign_in(client, person, code=code_for(confirmed_device(person)))
        assert response.status_code == 302, response
    else:
        client.force_login(person.user)
    return client


def alerts_of(world: World) -> dict[str, Alert]:
    alerts = {}
    for label in ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT"):
        alerts[label] = raise_as(world.ana, label, title=TITLES[label])
    alerts["CLEAR-public"] = raise_as(world.ana, "CLEAR", title=TITLES["CLEAR-public"], public=True)
    alerts["RED"] = raise_as(world.ana, "RED", title=TITLES["RED"], recipients=["jan@nic.nl"])
    return alerts


def test_tlp_matrix_on_the_list_and_the_detail_for_every_reader(world):
    alerts = alerts_of(world)
    for who, reader in world.readers().items():
        client = client_for(reader)
        listing = client.get("/alerts/")
        if reader is None or reader.user is None:  # pending: no account to sign in with yet
            assert listing.status_code == 302 and listing["Location"].startswith("/login/")
            for alert in alerts.values():
                response = client.get(f"/alerts/{alert.pk}/")
                assert response.status_code == 302, (who, alert.tlp)
            continue
        assert listing.status_code == 200, who
        html = listing.content.decode()
        for label, alert in alerts.items():
            allowed = who in EXPECTED[label]
            assert (TITLES[label] in html) is allowed, (who, label)
            detail = client.get(f"/alerts/{alert.pk}/")
            assert detail.status_code == (200 if allowed else 404), (who, label)
            body = detail.content.decode()
            assert (TITLES[label] in body) is allowed, (who, label)
            if allowed:
                assert f"TLP:{alert.tlp}" in body and 'id="tlp-banner"' in body
            else:
                assert "Page not found" in body


def test_the_list_shows_coloured_tlp_badges_untranslated(world):
    alerts_of(world)
    client = client_for(world.jan)
    html = client.get("/alerts/", headers={"Accept-Language": "fr"}).content.decode()
    for tag, css in [
        ("TLP:RED", "tlp-red"),
        ("TLP:AMBER+STRICT", "tlp-amber-strict"),
        ("TLP:AMBER", "tlp-amber"),
        ("TLP:GREEN", "tlp-green"),
        ("TLP:CLEAR", "tlp-clear"),
    ]:
        assert f'<span class="tlp {css}">{tag}</span>' in html
    assert "web/alerts" in html and "style=" not in html


def test_secretariat_gets_404_on_a_red_alert_not_naming_them(world):
    red = raise_as(world.ana, "RED", title=TITLES["RED"], recipients=["jan@nic.nl"])
    client = client_for(world.sec)
    response = client.get(f"/alerts/{red.pk}/")
    assert response.status_code == 404
    assert TITLES["RED"] not in response.content.decode()
    missing = client.get("/alerts/999999/")
    assert missing.status_code == 404  # the same answer as for an alert that does not exist
    assert client.get("/alerts/").status_code == 200
    assert TITLES["RED"] not in client.get("/alerts/").content.decode()


def test_no_red_title_leaks_through_a_cache_to_another_reader(world):
    """Jan (named) loads the list and the alert first; Marc, a member with the same role flags,
    and the secretariat then load the same addresses and never see it."""
    red = raise_as(world.ana, "RED", title=TITLES["RED"], recipients=["jan@nic.nl"])
    jan = client_for(world.jan)
    for address in ("/alerts/", "/alerts/?status=open", f"/alerts/{red.pk}/"):
        first = jan.get(address)
        assert TITLES["RED"] in first.content.decode()
        cache_control = first["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control
    for other in (world.marc, world.sec):
        client = client_for(other)
        for address in ("/alerts/", "/alerts/?status=open"):
            response = client.get(address)
            assert response.status_code == 200
            assert TITLES["RED"] not in response.content.decode()
        assert client.get(f"/alerts/{red.pk}/").status_code == 404
    # And the other way round: Jan still sees it after the others loaded the page.
    assert TITLES["RED"] in jan.get("/alerts/").content.decode()


def test_every_alert_page_is_private_no_store(world):
    alert = raise_as(world.ana, "GREEN", title=TITLES["GREEN"])
    client = client_for(world.ana)
    for address in ("/alerts/", f"/alerts/{alert.pk}/", "/alerts/new/", "/alerts/?tlp=PURPLE"):
        response = client.get(address)
        cache_control = response["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control, address


def test_filters_narrow_the_list_and_a_bad_filter_is_a_400_with_its_error(world):
    raise_as(world.ana, "GREEN", title=TITLES["GREEN"], affected=["nl"], category="phishing")
    raise_as(world.ana, "AMBER", title=TITLES["AMBER"], category="ddos")
    client = client_for(world.marc)
    html = client.get("/alerts/?tlp=green").content.decode()
    assert TITLES["GREEN"] in html and TITLES["AMBER"] not in html
    html = client.get("/alerts/?category=ddos").content.decode()
    assert TITLES["AMBER"] in html and TITLES["GREEN"] not in html
    html = client.get("/alerts/?tld=nl").content.decode()
    assert TITLES["GREEN"] in html and TITLES["AMBER"] not in html
    html = client.get("/alerts/?text=whiskey").content.decode()
    assert TITLES["AMBER"] in html and TITLES["GREEN"] not in html
    bad = client.get("/alerts/?tlp=PURPLE&category=spam")
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "A TLP label is required" in html and "“spam” is not a category" in html
    assert TITLES["GREEN"] not in html


def test_the_list_is_paginated(world, monkeypatch):
    monkeypatch.setattr("tldops.web.views.alerts.ALERTS_PER_PAGE", 2)
    for n in range(3):
        raise_as(world.ana, "GREEN", title=f"Numbered alert {n}")
    client = client_for(world.ana)
    first = client.get("/alerts/?tlp=GREEN").content.decode()
    assert "Numbered alert 2" in first and "Numbered alert 0" not in first
    assert 'href="?tlp=GREEN&amp;page=2"' in first
    second = client.get("/alerts/?tlp=GREEN&page=2").content.decode()
    assert "Numbered alert 0" in second and "Numbered alert 2" not in second


def test_the_detail_renders_markdown_safely(world):
    body = "**bold** and <script>alert(1)</script>\n\n[click](javascript:alert(1))\n\n- one\n- two"
    alert = raise_as(world.ana, "GREEN", title=TITLES["GREEN"], body=body, affected=["nl"])
    html = client_for(world.jan).get(f"/alerts/{alert.pk}/").content.decode()
    assert "<strong>bold</strong>" in html and "<li>one</li>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    assert 'Ana Lopez (<bdi dir="ltr">.fr</bdi>)' in html and ".nl" in html


def _form(**fields: str) -> dict[str, str]:
    data = {
        "title": "Resolver flood",
        "kind": "alert",
        "category": "ddos",
        "severity": "high",
        "tlp": "GREEN",
        "affected": "fr, nl",
        "body": "Seen from AS64500.",
        "recipients": "",
        "indicators": "",
    }
    return {**data, **fields}


def test_the_form_shows_every_error_at_once_keeps_what_was_typed_and_stores_nothing(world):
    client = client_for(world.ana)
    assert client.get("/alerts/new/").status_code == 200
    response = client.post(
        "/alerts/new/",
        _form(
            title="",
            tlp="PURPLE",
            category="spam",
            severity="apocalyptic",
            affected="fr, nowhere",
            body="Kept text <b>as typed</b>",
            recipients="jan@nic.nl",
        ),
    )
    assert response.status_code == 400
    html = response.content.decode()
    errors = html.count('class="error"')
    assert errors >= 5, html  # tlp, title, category, severity, affected (recipients: not RED)
    assert "A TLP label is required" in html
    assert "“spam” is not a category" in html
    assert "“apocalyptic” is not a severity" in html
    assert "nowhere" in html
    assert "Only a TLP:RED alert names its readers" in html
    assert "Kept text &lt;b&gt;as typed&lt;/b&gt;</textarea>" in html
    assert 'value="fr, nowhere"' in html
    assert not Alert.objects.exists()


def test_raising_a_green_alert_with_indicators_lists_the_refused_ones(world):
    client = client_for(world.ana)
    response = client.post(
        "/alerts/new/",
        _form(indicators="evil.example\nnot a thing at all\n192.0.2.1\n"),
        follow=True,
    )
    alert = Alert.objects.get()
    assert response.redirect_chain[-1][0] == f"/alerts/{alert.pk}/"
    html = response.content.decode()
    assert "Your alert is raised as TLP:GREEN." in html and "line 2:" in html
    assert alert.tlp == "GREEN" and alert.author == world.ana
    assert set(Indicator.objects.values_list("value", flat=True)) == {"evil.example", "192.0.2.1"}
    assert "TLP:GREEN" in html and "2 indicators" in html


def test_raising_a_red_alert_names_its_readers(world):
    client = client_for(world.jan)
    response = client.post(
        "/alerts/new/",
        _form(tlp="RED", title=TITLES["RED"], recipients="ana@nic.fr", affected=""),
    )
    alert = Alert.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/alerts/{alert.pk}/"
    assert alert.tlp == "RED"
    assert set(alert.recipients.values_list("email", flat=True)) == {"ana@nic.fr"}
    assert client_for(world.ana).get(f"/alerts/{alert.pk}/").status_code == 200
    assert client_for(world.marc).get(f"/alerts/{alert.pk}/").status_code == 404
    # RED without anybody named: refused, nothing stored.
    refused = client.post("/alerts/new/", _form(tlp="RED", title="second"))
    assert refused.status_code == 400 and "name at least one" in refused.content.decode()
    assert Alert.objects.count() == 1


def test_reactions_are_aggregated_per_cctld(world):
    alert = raise_as(world.ana, "AMBER", title=TITLES["AMBER"])
    jan = client_for(world.jan)
    response = jan.post(f"/alerts/{alert.pk}/react/", {"kind": "seen", "count": "120", "note": ""})
    assert response.status_code == 302
    client_for(world.marc).post(f"/alerts/{alert.pk}/react/", {"kind": "mitigated"})
    html = client_for(world.ana).get(f"/alerts/{alert.pk}/").content.decode()
    assert '<th scope="row"><bdi dir="ltr">.nl</bdi></th><td>1</td><td>120</td>' in html
    assert (
        '<th scope="row"><bdi dir="ltr">.fr</bdi></th><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td>'
        in html
    )
    # Bad answers: a count on "not seen", a count that is not a number.
    bad = jan.post(f"/alerts/{alert.pk}/react/", {"kind": "not-seen", "count": "3"})
    assert bad.status_code == 400 and "Only a sighting has a count." in bad.content.decode()
    bad = jan.post(f"/alerts/{alert.pk}/react/", {"kind": "seen", "count": "many"})
    assert bad.status_code == 400
    assert Reaction.objects.get(person=world.jan).count == 120


def test_reacting_to_an_unreadable_alert_is_a_404(world):
    red = raise_as(world.ana, "RED", title=TITLES["RED"], recipients=["jan@nic.nl"])
    response = client_for(world.marc).post(f"/alerts/{red.pk}/react/", {"kind": "seen"})
    assert response.status_code == 404
    assert not Reaction.objects.exists()


def test_status_by_the_author_and_staff_refused_for_others(world):
    alert = raise_as(world.ana, "GREEN", title=TITLES["GREEN"])
    response = client_for(world.ana).post(f"/alerts/{alert.pk}/status/", {"status": "monitoring"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "monitoring"
    client_for(world.sec).post(f"/alerts/{alert.pk}/status/", {"status": "resolved"})
    alert.refresh_from_db()
    assert alert.status == "resolved"
    refused = client_for(world.jan).post(f"/alerts/{alert.pk}/status/", {"status": "open"})
    assert refused.status_code == 403
    assert "author and the secretariat may change its status" in refused.content.decode()
    alert.refresh_from_db()
    assert alert.status == "resolved"
    html = client_for(world.jan).get(f"/alerts/{alert.pk}/").content.decode()
    assert 'id="status-form"' not in html and "open → monitoring" in html


def test_upload_of_indicators_with_errors_and_the_limit(world, settings):
    alert = raise_as(world.ana, "GREEN", title=TITLES["GREEN"])
    ana = client_for(world.ana)
    content = b"evil.example\n# a comment\nbad..name\n\xff\xfe\n198.51.100.0/24\n"
    response = ana.post(
        f"/alerts/{alert.pk}/indicators/",
        {"file": SimpleUploadedFile("list.txt", content, content_type="text/plain")},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 indicator(s) read, 2 line(s) refused." in html
    assert "line 3:" in html and "line 4:" in html
    assert alert.indicators.count() == 2
    # Over the limit: refused before it is read, nothing kept.
    settings.ALERT_UPLOAD_MAX_BYTES = 10
    big = ana.post(
        f"/alerts/{alert.pk}/indicators/",
        {"file": SimpleUploadedFile("big.txt", b"a.example\nb.example\n")},
    )
    assert big.status_code == 413
    assert "over the limit" in big.content.decode()
    assert alert.indicators.count() == 2
    # Not the author: refused; no file: a clear 400.
    other = client_for(world.jan).post(
        f"/alerts/{alert.pk}/indicators/",
        {"file": SimpleUploadedFile("l.txt", b"c.example\n")},
    )
    assert other.status_code == 403 and alert.indicators.count() == 2
    assert ana.post(f"/alerts/{alert.pk}/indicators/", {}).status_code == 400


def test_anonymous_is_sent_to_the_login_page(world):
    alert = raise_as(world.ana, "CLEAR", title=TITLES["CLEAR-public"], public=True)
    client = Client()
    for address in ("/alerts/", "/alerts/new/", f"/alerts/{alert.pk}/"):
        response = client.get(address)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    response = client.post("/alerts/new/", _form())
    assert response.status_code == 302 and not Alert.objects.filter(title="Resolver flood")


def test_the_menu_links_to_the_alerts_for_members_and_staff(world):
    assert 'id="nav-alerts"' in client_for(world.jan).get("/home/").content.decode()
    assert 'id="nav-alerts"' in client_for(world.chair).get("/home/").content.decode()
    assert 'id="nav-alerts"' not in Client().get("/").content.decode()


def test_alert_filters_page(world):
    jan, marc = client_for(world.jan), client_for(world.marc)
    page = jan.get("/alerts/")
    assert b'href="/alerts/filters/"' in page.content
    page = jan.get("/alerts/filters/")
    assert page.status_code == 200 and b'id="no-filters"' in page.content
    assert "no-store" in page["Cache-Control"]
    bad = jan.post(
        "/alerts/filters/",
        {"categories": ["spam"], "tlds": "fr, not-a-tld", "min_severity": "huge", "mode": "x"},
    )
    assert bad.status_code == 400
    body = bad.content.decode()
    assert body.count('class="error"') == 4 and 'value="fr, not-a-tld"' in body
    assert not AlertFilter.objects.exists()
    made = jan.post(
        "/alerts/filters/",
        {"categories": ["ddos"], "tlds": "fr рф", "min_severity": "high", "mode": "digest"},
    )
    assert made.status_code == 302
    (flt,) = AlertFilter.objects.filter(person=world.jan)
    assert sorted(t.alabel for t in flt.tlds.all()) == ["fr", "xn--p1ai"]
    listed = jan.get("/alerts/filters/").content.decode()
    assert f'id="filter-{flt.pk}"' in listed and ".xn--p1ai" in listed
    assert marc.post(f"/alerts/filters/{flt.pk}/delete/").status_code == 404
    assert f'id="filter-{flt.pk}"' not in marc.get("/alerts/filters/").content.decode()
    assert AlertFilter.objects.filter(pk=flt.pk).exists()
    assert jan.get(f"/alerts/filters/{flt.pk}/delete/").status_code == 405
    assert jan.post(f"/alerts/filters/{flt.pk}/delete/").status_code == 302
    assert not AlertFilter.objects.exists()
    # CSRF: a post without the token is refused.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.jan.user)
    assert strict.post("/alerts/filters/", {"mode": "digest"}).status_code == 403
    assert not AlertFilter.objects.exists()


def _raise_many(world: World, count: int, start: int = 0) -> None:
    """``count`` alerts by Ana and Marc, every label (RED naming two people), two affected
    ccTLDs each, answered by Jan: what a list row reads."""
    from tldops.alerts import services
    from tldops.directory.audit import Actor

    labels = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
    for i in range(start, start + count):
        label = labels[i % len(labels)]
        author = world.ana if i % 2 else world.marc
        named = {"recipients": ["jan@nic.nl", "sec@tldops.example"]} if label == "RED" else {}
        alert = raise_as(author, label, title=f"Bulk alert {i}", affected=["fr", "nl"], **named)
        services.react(
            world.jan,
            alert.pk,
            services.ReactionInput(kind="seen"),
            actor=Actor.of(world.jan, "web"),
        )


@pytest.mark.parametrize("path", ["/alerts/", "/alerts/?tld=fr&status=open"])
def test_the_list_makes_as_many_queries_with_60_alerts_as_with_5(world, path):
    """No query per alert (N+1): the page of 50 is read in a fixed number of queries, however
    many alerts there are (bench/load_directory.py measures it with 10,000)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(world.jan)
    _raise_many(world, 5)
    from django.core.cache import cache

    client.get(path)  # per-process caches (content types, translations) warmed
    cache.clear()  # the list is built, not taken from the reader's own cache entry
    with CaptureQueriesContext(connection) as few:
        small = client.get(path)
    with CaptureQueriesContext(connection) as again:
        client.get(path)  # now from the reader's entry: no alert query at all
    _raise_many(world, 55, start=5)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        large = client.get(path)
    assert small.status_code == large.status_code == 200
    assert not any("alerts_alert" in q["sql"] for q in again.captured_queries)
    assert small.content.count(b"Bulk alert ") == 5  # every one Jan may read: RED named him
    assert large.content.count(b"Bulk alert ") == 50  # the first page
    assert len(many.captured_queries) == len(few.captured_queries), [
        q["sql"] for q in many.captured_queries
    ]


def test_the_list_kept_for_a_reader_changes_as_soon_as_an_alert_does(world):
    """The list's results are kept per person under the directory version: a new alert, a new
    status, show at once; and one reader's entry is never another's (the test above)."""
    client = client_for(world.marc)
    first = raise_as(world.ana, "GREEN", title="First of two")
    assert "First of two" in client.get("/alerts/").content.decode()
    raise_as(world.ana, "AMBER", title="Second of two")
    html = client.get("/alerts/").content.decode()
    assert "First of two" in html and "Second of two" in html
    from tldops.alerts import services  # noqa: PLC0415
    from tldops.directory.audit import Actor  # noqa: PLC0415

    services.change_status(world.ana, first.pk, "resolved", actor=Actor.of(world.ana, "web"))
    assert "First of two" not in client.get("/alerts/?status=open").content.decode()
    assert "First of two" in client.get("/alerts/?status=resolved").content.decode()


def test_the_alert_page_kept_for_a_reader_changes_as_soon_as_the_alert_does(world):
    """Each reader's copy of an alert's page is kept under the time the alert last changed: an
    answer, a reply, a status show at once; another reader is never served it."""
    from tldops.alerts import services  # noqa: PLC0415
    from tldops.directory.audit import Actor  # noqa: PLC0415

    alert = raise_as(world.ana, "AMBER", title="Kept page")
    marc, jan = client_for(world.marc), client_for(world.jan)
    page = marc.get(f"/alerts/{alert.pk}/").content.decode()
    assert "Kept page" in page and 'id="thread"' in page
    services.react(
        world.jan,
        alert.pk,
        services.ReactionInput(kind="seen", count=42),
        actor=Actor.of(world.jan, "web"),
    )
    assert "42" in marc.get(f"/alerts/{alert.pk}/").content.decode()
    services.change_status(world.ana, alert.pk, "monitoring", actor=Actor.of(world.ana, "web"))
    assert "monitoring" in marc.get(f"/alerts/{alert.pk}/").content.decode()
    # Each gets a working form of their own (the CSRF hole filled per request).
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.jan.user)
    html = strict.get(f"/alerts/{alert.pk}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    answered = strict.post(
        f"/alerts/{alert.pk}/react/", {"kind": "mitigated", "csrfmiddlewaretoken": token}
    )
    assert answered.status_code == 302
    assert jan.get(f"/alerts/{alert.pk}/").status_code == 200
