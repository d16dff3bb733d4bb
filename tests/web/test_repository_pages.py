"""The contact repository page: editions with their downloads, and the current directory."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from django.test import Client

from tldops.repository import editions


def _publish() -> None:
    editions.publish("2026-11", trigger="schedule", now=datetime(2026, 11, 2, 6, tzinfo=UTC))


def test_members_see_editions_and_download_every_format(member_client, catalog, make_member):
    make_member(catalog["xn--p1ai"], name="Ольга Смирнова", email="olga@nic.ru")
    page = member_client.get("/repository/").content.decode()
    assert "No edition has been sent yet." in page
    assert 'href="/repository/"' in page  # the menu entry
    _publish()
    page = member_client.get("/repository/").content.decode()
    assert "2026-11" in page
    for fmt in ("txt", "csv", "vcf", "pdf"):
        assert f'href="/repository/2026-11.{fmt}"' in page
        assert f'href="/repository/current.{fmt}"' in page

    txt = member_client.get("/repository/2026-11.txt")
    assert txt.status_code == 200 and txt["Content-Type"] == "text/plain; charset=utf-8"
    assert txt["Content-Disposition"] == 'attachment; filename="tld-ops-contacts-2026-11.txt"'
    assert "Ольга Смирнова | 1 | .рф (xn--p1ai)" in txt.content.decode()
    pdf = member_client.get("/repository/2026-11.pdf")
    assert pdf.content.startswith(b"%PDF-")

    current = member_client.get("/repository/current.csv")
    rows = list(csv.DictReader(io.StringIO(current.content.decode())))
    assert sorted(r["name"] for r in rows) == ["Ana Lopez", "Ольга Смирнова"]


def test_unknown_edition_or_format_is_404(member_client):
    assert member_client.get("/repository/2026-10.txt").status_code == 404
    assert member_client.get("/repository/current.exe").status_code == 404


def test_staff_may_download_too(staff_client, catalog, make_member):
    make_member(catalog["fr"], name="Ana Lopez")
    client = staff_client()
    assert client.get("/repository/").status_code == 200
    assert client.get("/repository/current.vcf").content.startswith(b"BEGIN:VCARD\r\nVERSION:4.0")


def test_not_for_the_public_or_former_members(client: Client, catalog, make_member):
    response = client.get("/repository/current.csv")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    from tests.web.conftest import sign_in
    from tldops.directory import actions
    from tldops.directory.audit import Actor

    person = make_member(catalog["fr"], name="Ana Lopez")
    actions.leave(person, actor=Actor.of(person, "web"))
    sign_in(client, person)
    assert client.get("/repository/current.csv").status_code == 403
