"""The contact repository in the API: editions, downloads, the current directory, re-sending."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import vobject

from tldops.directory.models import AuditEntry
from tldops.repository import editions
from tldops.repository.models import Edition

PERIOD = "2026-10"


def published_edition() -> str:
    """The October 2026 edition, sent once (to the members the test made)."""
    if not Edition.objects.filter(period=PERIOD).exists():
        editions.publish(PERIOD, trigger="api", now=datetime(2026, 10, 1, 6, tzinfo=UTC))
    return PERIOD


def test_editions_list_detail_and_downloads(world):
    member = world.clients["member"]
    assert member.get("/repository/editions").data == {"items": [], "count": 0}
    published_edition()
    page = member.get("/repository/editions").data
    assert page["count"] == 1
    listed = page["items"]
    assert [e["period"] for e in listed] == [PERIOD]
    assert listed[0]["people"] == 3 and listed[0]["cctlds"] == 3  # fr, br, nl
    assert listed[0]["downloads"]["vcf"] == f"/api/v1/repository/editions/{PERIOD}/vcf"

    detail = member.get(f"/repository/editions/{PERIOD}").data
    assert detail["changes"] == {"previous": None, "joined": [], "left": [], "changed": []}

    response = member.get(f"/repository/editions/{PERIOD}/vcf")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="tld-ops-contacts-{PERIOD}.vcf"'
    )
    names = sorted(card.fn.value for card in vobject.readComponents(response.content.decode()))
    assert names == ["Ana Lopez", "Bruno Silva", "Nina de Vries"]
    pdf = member.get(f"/repository/editions/{PERIOD}/pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")


def test_current_directory_download(world):
    response = world.clients["member"].get("/repository/current/csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert sorted(r["name"] for r in rows) == ["Ana Lopez", "Bruno Silva", "Nina de Vries"]
    assert not Edition.objects.exists()


def test_errors(world):
    member = world.clients["member"]
    missing = member.get("/repository/editions/2026-09")
    assert missing.status_code == 404 and "no edition 2026-09" in missing.data["detail"]
    assert member.get("/repository/editions/2026-9").status_code == 400
    published_edition()
    bad = member.get(f"/repository/editions/{PERIOD}/docx")
    assert bad.status_code == 400 and "Unknown format" in bad.data["detail"]
    assert member.get("/repository/current/exe").status_code == 400


def test_resend_is_for_staff_and_audited(world):
    published_edition()
    refused = world.clients["member"].post(f"/repository/editions/{PERIOD}/resend", {})
    assert refused.status_code == 403
    staff = world.clients["secretariat"]
    ok = staff.post(f"/repository/editions/{PERIOD}/resend", {"to": ["ana@nic.fr"]})
    assert ok.status_code == 200, ok.data
    assert ok.data["period"] == PERIOD and ok.data["recipients"] == 1
    entry = AuditEntry.objects.get(action="repository-resend")
    assert entry.door == "api" and entry.actor.endswith(world.secretariat.email)
    stranger = staff.post(f"/repository/editions/{PERIOD}/resend", {"to": ["x@example.org"]})
    assert stranger.status_code == 400 and stranger.data["field"] == "to"
