"""Staff pages: invitations (one, batch, tracking), the audit log, removing a contact."""

from tldops.directory.models import AuditEntry, Invitation, Membership


def test_invite_one_accepts_every_spelling(staff_client, catalog):
    client = staff_client()
    for typed in ("рф", "xn--p1ai", ".UA"):
        response = client.post("/invitations/", {"form": "one", "one-tld": typed})
        assert response.status_code == 200, typed
    assert set(Invitation.objects.filter(status="sent").values_list("tld__alabel", flat=True)) == {
        "xn--p1ai",
        "ua",
    }


def test_invite_one_shows_errors_next_to_the_field(staff_client, catalog):
    client = staff_client()
    response = client.post("/invitations/", {"form": "one", "one-tld": "an"})
    assert response.status_code == 400 and "retired" in response.content.decode()
    response = client.post("/invitations/", {"form": "one", "one-tld": "qq"})
    assert "not a known ccTLD" in response.content.decode()
    assert not Invitation.objects.exists()


def test_invite_batch_by_letters_skips_covered_and_shows_reasons(
    staff_client, catalog, make_member, make_tld
):
    make_member(catalog["ca"])
    make_tld("cc", admin_email="")
    client = staff_client()
    response = client.post(
        "/invitations/", {"form": "batch", "batch-first": "a", "batch-last": "c"}
    )
    html = response.content.decode()
    invited = {i.tld.alabel for i in Invitation.objects.filter(batch__startswith="a-c")}
    assert invited == {"br"}  # .an is retired, .ca has contacts, .cc has no admin address
    assert "already has contacts" in html and ".ca" in html and ".cc" in html
    assert "no known email address" in html
    # Tracking, filtered by batch and status.
    batch = Invitation.objects.get(tld__alabel="br").batch
    listing = client.get("/invitations/", {"batch": batch, "status": "sent"}).content.decode()
    table = listing.split('id="invitations-table"')[1]
    assert ".br" in table and "admin@nic.br" in table and ".ca" not in table
    empty = client.get("/invitations/", {"status": "answered", "batch": batch}).content.decode()
    assert "No invitation matches" in empty


def test_batch_letters_must_be_in_order(staff_client, catalog):
    client = staff_client()
    response = client.post(
        "/invitations/", {"form": "batch", "batch-first": "d", "batch-last": "a"}
    )
    assert response.status_code == 400 and not Invitation.objects.exists()


def test_audit_log_filters_and_shows_diffs(staff_client, catalog, make_member):
    member = make_member(catalog["fr"])
    make_member(catalog["nl"], name="Jan Jansen")
    client = staff_client()
    html = client.get("/audit/", {"tld": ".fr"}).content.decode()
    assert "Invited .fr" in html and "Invited .nl" not in html
    html = client.get("/audit/", {"action": "contact-confirmed"}).content.decode()
    assert "Ana Lopez confirmed" in html and "Invited" not in html
    assert "<ins>active</ins>" in html  # after, shown as a diff
    assert member.email in client.get("/audit/").content.decode()
    bad = client.get("/audit/", {"tld": "qq"}).content.decode()
    assert "not a known ccTLD" in bad


def test_audit_log_is_paginated(staff_client, catalog):
    client = staff_client()
    from tldops.directory.audit import Actor, record

    for i in range(60):
        record(Actor.system(), "test", f"entry {i}")
    first = client.get("/audit/").content.decode()
    assert "Page 1 of 2" in first and "?page=2" in first
    second = client.get("/audit/", {"page": 2}).content.decode()
    assert "Page 2 of 2" in second


def test_staff_removes_a_contact_with_a_reason(staff_client, catalog, make_member, outbox):
    member = make_member(catalog["fr"])
    membership = member.memberships.get()
    client = staff_client()
    assert f"/members/{membership.pk}/remove/" in client.get("/directory/").content.decode()
    assert client.post(f"/members/{membership.pk}/remove/", {"reason": ""}).status_code == 400
    response = client.post(
        f"/members/{membership.pk}/remove/", {"reason": "Left the registry, per admin contact"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == Membership.Status.REMOVED
    entry = AuditEntry.objects.get(action="contact-removed")
    assert "Left the registry" in entry.summary and entry.door == "web"
    again = client.post(f"/members/{membership.pk}/remove/", {"reason": "again"})
    assert again.status_code == 400 and "no longer active" in again.content.decode()


def test_members_cannot_remove_contacts(member_client, catalog):
    membership = member_client.person.memberships.get()
    response = member_client.post(f"/members/{membership.pk}/remove/", {"reason": "x"})
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.status == "active"
