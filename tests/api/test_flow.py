"""The vetting flow and its bad inputs, through the API only."""

from __future__ import annotations

from django.test import Client

from tests.api.conftest import ApiClient, link_in, token_for, verified_session
from tests.conftest import person_state
from tldops.directory import actions, links
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry, Invitation, Membership, Person
from tldops.directory.validation import ContactInput

ANA = {
    "name": "Ana Lopez",
    "email": "ana@nic.fr",
    "phones": [{"number": "+33 1 23 45 67 89", "label": "24/7"}],
    "timezone": "Europe/Paris",
    "languages": ["fr", "en"],
}


def _contact(n: int, tld: str = "fr") -> dict:
    return {"name": f"Contact {n}", "email": f"c{n}@nic.{tld}"}


def _invite(catalog, tld: str = "fr") -> str:
    return links.invitation_token(actions.invite_cctld(catalog[tld], actor=Actor.system()))


def test_invite_authorise_confirm_then_listed_and_counted(catalog, staff, outbox):
    sec = ApiClient(token=token_for(staff("secretariat")))
    anonymous = ApiClient()

    invited = sec.post("/invitations", {"tld": "fr", "batch": "2025-spring"})
    assert invited.status_code == 201, invited.data
    assert [i["tld"]["alabel"] for i in invited.data["invited"]] == ["fr"]
    ((to, mail),) = outbox("invite")
    assert to == "admin@nic.fr"
    token = link_in(mail, "authorise")

    seen = anonymous.get(f"/authorisations/{token}")
    assert seen.status_code == 200
    assert seen.data["tld"]["alabel"] == "fr"
    assert seen.data["contacts"] == []
    assert seen.data["max_contacts"] == 3

    named = anonymous.post(f"/authorisations/{token}", {"contacts": [ANA]})
    assert named.status_code == 200, named.data
    assert named.data["added"][0]["status"] == "pending"
    ((to, mail),) = outbox("confirmation")
    assert to == "ana@nic.fr"

    # Not a member yet: the directory does not list a pending contact, coverage does not count it.
    assert sec.get("/directory/contacts").data["count"] == 0
    assert anonymous.get("/coverage").data["overall"]["covered"] == 0

    confirmed = anonymous.post(
        f"/confirmations/{link_in(mail, 'confirm')}", {"password": "a long enough passphrase"}
    )
    assert confirmed.status_code == 200, confirmed.data
    assert confirmed.data["status"] == "active"

    listing = sec.get("/directory/contacts", tld="fr")
    assert listing.data["count"] == 1
    (entry,) = listing.data["items"]
    assert entry["name"] == "Ana Lopez"
    assert entry["emails"] == ["ana@nic.fr"]
    assert entry["phones"] == [
        {"number": "+33123456789", "label": "24/7", "display": "+33 1 23 45 67 89"}
    ]
    assert entry["tld"] == {"alabel": "fr", "ulabel": "fr", "display": ".fr"}
    assert entry["languages"] == ["fr", "en"]
    assert entry["number"] == 1

    cov = anonymous.get("/coverage").data
    assert [t["alabel"] for t in cov["members"]] == ["fr"]
    assert "fr" not in [t["alabel"] for t in cov["not_subscribed"]]
    assert cov["overall"] == {"covered": 1, "total": 6, "percent": 16.7}
    assert {r["code"]: r["covered"] for r in cov["by_region"]} == {"centr": 1, "lactld": 0}
    assert "lopez" not in str(cov).lower()  # no person data on the public page
    assert "@" not in str(cov)

    # The new member can log in to the portal with the password chosen at confirmation.
    assert Client().login(username="ana@nic.fr", password="a long enough passphrase")
    doors = set(AuditEntry.objects.filter(tld=catalog["fr"]).values_list("door", flat=True))
    assert "api" in doors


def test_a_fourth_contact_is_refused_and_nothing_is_written(catalog):
    anonymous = ApiClient()
    token = _invite(catalog)
    people_before = Person.objects.count()
    audit_before = AuditEntry.objects.count()

    response = anonymous.post(
        f"/authorisations/{token}", {"contacts": [_contact(n) for n in range(1, 5)]}
    )

    assert response.status_code == 409
    assert response.data["field"] == "contacts"
    assert "at most 3 contacts" in response.data["detail"]
    assert Person.objects.count() == people_before
    assert Membership.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before
    # The link was not used up: the admin contact can correct and try again.
    assert anonymous.get(f"/authorisations/{token}").status_code == 200
    assert (
        anonymous.post(f"/authorisations/{token}", {"contacts": [_contact(1)]}).status_code == 200
    )


def test_a_fourth_contact_through_a_management_link_needs_a_removal(catalog):
    anonymous = ApiClient()
    first = anonymous.post(
        f"/authorisations/{_invite(catalog)}", {"contacts": [_contact(n) for n in range(1, 4)]}
    )
    assert first.status_code == 200
    assert anonymous.post("/manage-links", {"tld": "fr"}).status_code == 202
    manage = links.invitation_token(Invitation.objects.get(purpose="manage"))
    assert [c["number"] for c in anonymous.get(f"/authorisations/{manage}").data["contacts"]] == [
        1,
        2,
        3,
    ]

    refused = anonymous.post(f"/authorisations/{manage}", {"contacts": [_contact(4)]})
    assert refused.status_code == 409
    assert Membership.objects.filter(status__in=Membership.OPEN).count() == 3

    replaced = anonymous.post(
        f"/authorisations/{manage}", {"contacts": [_contact(4)], "remove": [2]}
    )
    assert replaced.status_code == 200, replaced.data
    assert [m["number"] for m in replaced.data["removed"]] == [2]
    assert [m["email"] for m in replaced.data["added"]] == ["c4@nic.fr"]


def test_a_contact_number_out_of_range_is_refused_and_nothing_is_written(catalog):
    """Found by the role-matrix fuzzing: a number beyond the database integer's range reached
    SQLite and answered 500."""
    anonymous = ApiClient()
    named = anonymous.post(f"/authorisations/{_invite(catalog)}", {"contacts": [_contact(1)]})
    assert named.status_code == 200
    assert anonymous.post("/manage-links", {"tld": "fr"}).status_code == 202
    manage = links.invitation_token(Invitation.objects.get(purpose="manage"))

    for number in (2**70, 2**63, 40_000, 0, -1):
        response = anonymous.post(f"/authorisations/{manage}", {"remove": [number]})
        assert response.status_code == 422, (number, response.data)
        assert response.data["field"] == "remove.0"
    assert Membership.objects.filter(status__in=Membership.OPEN).count() == 1
    # The link was not used up.
    assert anonymous.get(f"/authorisations/{manage}").status_code == 200


def test_an_invalid_phone_is_refused_with_its_field(catalog):
    anonymous = ApiClient()
    token = _invite(catalog)
    bad = dict(ANA, phones=[{"number": "+33 12", "label": "office"}])
    response = anonymous.post(f"/authorisations/{token}", {"contacts": [bad]})
    assert response.status_code == 400
    assert response.data["field"] == "phone"
    assert "+33 12" in response.data["detail"]
    assert not Person.objects.filter(email="ana@nic.fr").exists()


def test_every_refused_field_of_every_contact_is_reported_at_once(catalog):
    anonymous = ApiClient()
    token = _invite(catalog)
    first = dict(ANA, email="not-an-address", timezone="Mars/Olympus", languages=["zz"])
    second = dict(ANA, name="Paul", email="paul@nic.fr", phones=[{"number": "+33 12"}])
    response = anonymous.post(f"/authorisations/{token}", {"contacts": [first, second]})
    assert response.status_code == 400
    problems = [(e["index"], e["field"]) for e in response.data["errors"]]
    assert problems == [(0, "email"), (0, "timezone"), (0, "languages"), (1, "phone")]
    assert response.data["field"] == "email"
    for error in response.data["errors"]:  # detail says them all, for a client that shows one
        assert error["detail"] in response.data["detail"]
    assert not Person.objects.exists()
    assert Invitation.objects.get().status == "sent"


def test_a_used_link_answers_410(catalog, settings):
    anonymous = ApiClient()
    token = _invite(catalog)
    assert anonymous.post(f"/authorisations/{token}", {"contacts": [ANA]}).status_code == 200
    again = anonymous.post(f"/authorisations/{token}", {"contacts": [_contact(2)]})
    assert again.status_code == 410
    assert "already been used" in again.data["detail"]
    assert f"{settings.BASE_URL}/manage/" in again.data["detail"]  # where to change the answer
    assert anonymous.get(f"/authorisations/{token}").status_code == 410
    assert anonymous.get("/authorisations/not-a-token").status_code == 410


def test_a_used_confirmation_link_answers_410(catalog):
    anonymous = ApiClient()
    (m,) = actions.authorise_contacts(
        _invite(catalog), [ContactInput(name="Ana Lopez", email="ana@nic.fr")], door="web"
    ).added
    token = links.confirmation_token(m)
    assert anonymous.post(f"/confirmations/{token}", {}).status_code == 200
    assert anonymous.post(f"/confirmations/{token}", {}).status_code == 410


def test_a_short_password_at_confirmation_is_refused(catalog):
    (m,) = actions.authorise_contacts(
        _invite(catalog), [ContactInput(name="Ana Lopez", email="ana@nic.fr")], door="web"
    ).added
    response = ApiClient().post(
        f"/confirmations/{links.confirmation_token(m)}", {"password": "short"}
    )
    assert response.status_code == 400
    assert response.data["field"] == "password"
    m.refresh_from_db()
    assert m.status == "pending"


def test_a_revoked_token_answers_401(catalog, make_member):
    person = make_member(catalog["fr"])
    session = ApiClient(client=Client())
    session.client.force_login(person.user)
    created = session.post("/me/tokens", {"name": "monitoring"})
    assert created.status_code == 201
    assert created.data["token"].startswith("tldops_")
    with_token = ApiClient(token=created.data["token"])
    assert with_token.get("/me").data["email"] == person.email

    assert with_token.delete(f"/me/tokens/{created.data['id']}").status_code == 200

    response = with_token.get("/me")
    assert response.status_code == 401
    assert "revoked" in response.data["detail"]
    listed = session.get("/me/tokens").data
    assert listed["count"] == 1
    listed = listed["items"]
    assert listed[0]["revoked_at"] is not None
    assert "token" not in listed[0]  # the plaintext is shown once, at creation


def test_session_needs_csrf_on_unsafe_methods(catalog, make_member):
    person = make_member(catalog["fr"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(person.user)
    api = ApiClient(client=client)

    assert api.get("/me").status_code == 200  # safe methods need no CSRF token
    refused = api.patch("/me", {"timezone": "Europe/Madrid"})
    assert refused.status_code == 403
    assert "CSRF" in refused.data["detail"]

    client.get("/api/v1/me")  # any page; Django sets the csrftoken cookie on demand below
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    response = client.patch(
        "/api/v1/me",
        data='{"timezone": "Europe/Madrid"}',
        content_type="application/json",
        headers={"X-CSRFToken": _mask_cipher_secret(secret)},
    )
    assert response.status_code == 200, response.content
    assert response.json()["timezone"] == "Europe/Madrid"


def test_staff_sessions_need_the_second_factor(staff, settings):
    person = staff("secretariat")
    client = Client()
    client.force_login(person.user)
    refused = ApiClient(client=client).get("/invitations")
    assert refused.status_code == 401
    assert "second-factor" in refused.data["detail"]

    assert ApiClient(client=verified_session(person)).get("/invitations").status_code == 200
    settings.REQUIRE_2FA_FOR_STAFF = False
    assert ApiClient(client=client).get("/invitations").status_code == 200


def test_members_edit_their_own_profile_and_colleagues_are_told(catalog, make_member, outbox):
    ana = make_member(catalog["fr"], "Ana Lopez")
    make_member(catalog["fr"], "Paul Martin")
    api = ApiClient(token=token_for(ana))
    response = api.patch(
        "/me",
        {
            "phones": [
                {"number": "+33 6 12 34 56 78", "label": "mobile"},
                {"number": "01 23 45 67 89", "label": "24x7"},
            ],
            "languages": ["French", "es"],
        },
    )
    assert response.status_code == 200, response.data
    assert [(p["number"], p["label"]) for p in response.data["phones"]] == [
        ("+33612345678", "mobile"),
        ("+33123456789", "24/7"),
    ]
    assert response.data["languages"] == ["fr", "es"]
    assert response.data["timezone"] == "Europe/Paris"  # untouched
    assert [to for to, _m in outbox("colleague-notice")] == ["paul@nic.fr"]

    bad = api.patch("/me", {"phones": [{"number": "12", "label": "office"}]})
    assert bad.status_code == 400 and bad.data["field"] == "phone"
    bad = api.patch("/me", {"timezone": "Mars/Olympus"})
    assert bad.status_code == 400 and bad.data["field"] == "timezone"
    bad = api.patch("/me", {"family_name": "Garcia"})
    assert bad.status_code == 400 and bad.data["field"] == "family_name"
    named = api.patch("/me", {"family_name": "Lopez"})
    assert named.status_code == 200 and named.data["family_name"] == "Lopez"


def test_leaving_one_cctld(catalog, make_member):
    ana = make_member(catalog["fr"], "Ana Lopez", email="ana@registry.example")
    make_member(catalog["xn--p1ai"], "Ana Lopez", email="ana@registry.example")
    api = ApiClient(token=token_for(Person.objects.get(pk=ana.pk)))
    response = api.post("/me/leave", {"tld": "рф"})
    assert response.status_code == 200, response.data
    assert [(m["tld"]["alabel"], m["status"]) for m in response.data] == [("xn--p1ai", "left")]
    me = api.get("/me").data
    assert {m["tld"]["alabel"]: m["status"] for m in me["memberships"]} == {
        "fr": "active",
        "xn--p1ai": "left",
    }
    assert api.post("/me/leave", {"tld": "рф"}).status_code == 404


def test_catalog_accepts_every_spelling(catalog, make_member):
    api = ApiClient(token=token_for(make_member(catalog["fr"])))
    for name in ("xn--p1ai", "рф", ".РФ"):
        response = api.get(f"/catalog/tlds/{name}")
        assert response.status_code == 200, (name, response.data)
        assert response.data["alabel"] == "xn--p1ai"
        assert response.data["ulabel"] == "рф"
    assert api.get("/catalog/tlds/an").data["delegated"] is False
    missing = api.get("/catalog/tlds/zz")
    assert missing.status_code == 404 and missing.data["field"] == "tld"

    listed = api.get("/catalog/tlds", region="centr").data
    assert [t["alabel"] for t in listed["items"]] == ["fr", "nl"]
    assert [t["alabel"] for t in api.get("/catalog/tlds", kind="idn").data["items"]] == ["xn--p1ai"]
    assert [t["alabel"] for t in api.get("/catalog/tlds", delegated="false").data["items"]] == [
        "an"
    ]
    assert [t["alabel"] for t in api.get("/catalog/tlds", search="france").data["items"]] == ["fr"]
    page = api.get("/catalog/tlds", limit=2, offset=2).data
    assert page["count"] == 6 and [t["alabel"] for t in page["items"]] == ["fr", "nl"]
    assert api.get("/catalog/tlds", limit=0).status_code == 422


def test_committee_tags_regions(catalog, make_member, staff):
    committee = ApiClient(client=verified_session(staff("committee", email="chair@tldops.example")))
    added = committee.post("/catalog/tlds/рф/regions", {"region": "CENTR"})
    assert added.status_code == 200, added.data
    assert added.data["regions"] == ["centr"]
    unknown = committee.post("/catalog/tlds/fr/regions", {"region": "nowhere"})
    assert unknown.status_code == 400 and unknown.data["field"] == "region"
    removed = committee.delete("/catalog/tlds/xn--p1ai/regions/centr")
    assert removed.data["regions"] == []
    assert AuditEntry.objects.filter(tld=catalog["xn--p1ai"], door="api").count() == 2


def test_invitation_batches_report_what_they_skipped(catalog, staff, make_member):
    make_member(catalog["br"])
    catalog["ca"].admin_email = ""
    catalog["ca"].save()
    sec = ApiClient(token=token_for(staff("secretariat")))

    response = sec.post(
        "/invitations", {"alphabetical": {"first": "a", "last": "c"}, "batch": "A-C"}
    )
    assert response.status_code == 201, response.data
    assert response.data["invited"] == []  # .an is retired, .br covered, .ca has no admin address
    skipped = {s["tld"]["alabel"]: s["reason"] for s in response.data["skipped"]}
    assert set(skipped) == {"br", "ca"}
    assert "already has contacts" in skipped["br"]
    assert "administrative contact" in skipped["ca"]

    listed = sec.post("/invitations", {"tlds": ["fr", "рф"], "batch": "B2"})
    assert [i["tld"]["alabel"] for i in listed.data["invited"]] == ["fr", "xn--p1ai"]
    tracking = sec.get("/invitations", batch="B2").data
    assert tracking["count"] == 2
    assert {i["invited_by"] for i in tracking["items"]} == {"sec@tldops.example"}

    assert sec.post("/invitations", {"tlds": ["fr", "zz"]}).status_code == 400
    both = sec.post("/invitations", {"tld": "fr", "tlds": ["nl"]})
    assert both.status_code == 400 and "exactly one" in both.data["detail"]
    assert sec.post("/invitations/remind").data == {"sent": 0}


def test_staff_remove_a_contact_with_a_reason_and_it_is_audited(catalog, staff, make_member):
    ana = make_member(catalog["fr"])
    membership = ana.memberships.get()
    sec = ApiClient(token=token_for(staff("secretariat")))

    assert sec.delete(f"/directory/contacts/{membership.pk}").status_code == 422  # reason needed
    response = sec.delete(f"/directory/contacts/{membership.pk}", reason="left the registry")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "removed"
    assert sec.get("/directory/contacts").data["count"] == 0
    again = sec.delete(f"/directory/contacts/{membership.pk}", reason="twice")
    assert again.status_code == 400
    assert sec.delete("/directory/contacts/999999", reason="x").status_code == 404

    audit = sec.get("/audit", tld="fr", action="contact-removed").data
    assert audit["count"] == 1
    (entry,) = audit["items"]
    assert entry["door"] == "api"
    assert entry["actor"] == "secretariat:sec@tldops.example"
    assert entry["person"]["email"] == ana.email
    assert entry["before"] == {"status": "active"}
    by_person = sec.get("/audit", person=ana.email).data["count"]
    assert by_person == sec.get("/audit", person=str(ana.pk)).data["count"] >= 3


def test_committee_sets_roles(catalog, staff, make_member):
    ana = make_member(catalog["fr"])
    committee = ApiClient(client=verified_session(staff("committee", email="chair@tldops.example")))
    response = committee.put(f"/people/{ana.pk}/role", {"role": "committee", "position": "liaison"})
    assert response.status_code == 200, response.data
    assert (response.data["role"], response.data["committee_position"]) == ("committee", "liaison")
    assert committee.put(f"/people/{ana.pk}/role", {"role": "king"}).data["field"] == "role"
    assert committee.put("/people/999999/role", {"role": "member"}).status_code == 404


def test_manage_link_answer_reveals_nothing(catalog, outbox):
    anonymous = ApiClient()
    answers = [anonymous.post("/manage-links", {"tld": name}) for name in ("fr", "zz", "an", "")]
    assert {r.status_code for r in answers} == {202}
    assert len({r.content for r in answers}) == 1
    assert [to for to, _m in outbox("manage")] == ["admin@nic.fr"]


def test_directory_search_and_validation_errors(catalog, make_member):
    make_member(catalog["fr"], "Ana Lopez")
    make_member(catalog["nl"], "Jan de Vries")
    api = ApiClient(token=token_for(Person.objects.get(name="Ana Lopez")))
    assert [c["name"] for c in api.get("/directory/contacts", search="vries").data["items"]] == [
        "Jan de Vries"
    ]
    bad = api.get("/directory/contacts", tld="zz")
    assert bad.status_code == 400 and bad.data["field"] == "tld"
    malformed = api.call("POST", "/me/leave", {"tld": 5})
    assert malformed.status_code == 422
    assert malformed.data["field"] == "tld"
    assert malformed.data["errors"]
    typo = api.patch("/me", {"phone": [{"number": "+33 1 23 45 67 89"}]})
    assert typo.status_code == 422 and typo.data["field"] == "phone"
    not_an_object = api.call("PATCH", "/me", [None, None])
    assert not_an_object.status_code == 422


def test_openapi_document_and_docs_are_served(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    doc = schema.json()
    assert doc["info"]["title"] == "tldops API"
    # ProbeToken: a probe's own token, on the two operations a probe calls (and only there).
    assert set(doc["components"]["securitySchemes"]) == {
        "BearerToken",
        "PortalSession",
        "ProbeToken",
    }
    probe_only = {
        (method, path)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if {"ProbeToken": []} in op.get("security", [])
    }
    assert probe_only == {("post", "/api/v1/monitor/reports"), ("get", "/api/v1/monitor/tlds")}
    # Every operation says what it does and every schema property is described or referenced.
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("summary") and op.get("description"), (method, path)
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"/static/ninja/swagger-ui-bundle.js" in docs.content  # served by us: works offline
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_naming_known_people_through_the_api_changes_nothing_of_theirs(catalog, make_member, staff):
    """A member of .fr and a staff account named by .nl's admin contact keep their details, before
    and after confirming; the answer shows the names given, not theirs."""
    make_member(catalog["fr"], "Ana Lopez", email="ana@nic.fr")
    staff("secretariat", email="sec@tldops.example")
    people = ("ana@nic.fr", "sec@tldops.example")
    before = {address: person_state(address) for address in people}
    impostors = [
        {
            "name": f"Mallory {i}",
            "email": address,
            "phones": [{"number": "+31 20 123 4567", "label": "24/7"}],
            "timezone": "Asia/Tokyo",
            "languages": ["ja"],
        }
        for i, address in enumerate(people)
    ]
    anonymous = ApiClient()

    named = anonymous.post(f"/authorisations/{_invite(catalog, 'nl')}", {"contacts": impostors})

    assert named.status_code == 200, named.data
    assert [c["name"] for c in named.data["added"]] == ["Mallory 0", "Mallory 1"]
    assert {address: person_state(address) for address in people} == before
    for m in Membership.objects.filter(tld=catalog["nl"]):
        confirmed = anonymous.post(
            f"/confirmations/{links.confirmation_token(m)}", {"password": "x" * 20}
        )
        assert confirmed.status_code == 200, confirmed.data
        assert confirmed.data["name"] != m.proposed["name"]
    assert {address: person_state(address) for address in people} == before


def test_an_invitation_link_cannot_remove_contacts(catalog, make_member):
    make_member(catalog["fr"], "Ana Lopez")
    token = _invite(catalog)
    anonymous = ApiClient()

    response = anonymous.post(
        f"/authorisations/{token}", {"contacts": [_contact(2)], "remove": [1]}
    )

    assert response.status_code == 403
    assert response.data["field"] == "remove"
    assert "management link" in response.data["detail"]
    assert Membership.objects.get().status == "active"
    assert not Person.objects.filter(email="c2@nic.fr").exists()
    assert anonymous.get(f"/authorisations/{token}").status_code == 200


def test_a_named_contact_may_decline(catalog, make_member):
    make_member(catalog["fr"], "Ana Lopez", email="ana@nic.fr")
    before = person_state("ana@nic.fr")
    (m,) = actions.authorise_contacts(
        _invite(catalog, "nl"), [ContactInput(name="Mallory", email="ana@nic.fr")], door="web"
    ).added
    anonymous = ApiClient()

    declined = anonymous.post(f"/confirmations/{links.confirmation_token(m)}/decline")

    assert declined.status_code == 200, declined.data
    assert declined.data["status"] == "left" and declined.data["tld"]["alabel"] == "nl"
    assert person_state("ana@nic.fr") == before
    again = anonymous.post(f"/confirmations/{links.confirmation_token(m)}/decline")
    assert again.status_code == 410


def test_a_megabyte_name_or_two_thousand_phones_through_the_api_change_nothing(
    catalog, make_member, outbox
):
    ana = make_member(catalog["fr"], "Ana Lopez")
    make_member(catalog["fr"], "Paul Martin")
    api = ApiClient(token=token_for(ana))
    before = api.get("/me").data
    huge = api.patch("/me", {"name": "A" * 1_000_000})
    assert huge.status_code == 422, huge.data  # the schema states the bound, and refuses first
    assert huge.data["field"] == "name" and "200" in huge.data["detail"]
    assert len(huge.content) < 2000  # the answer does not echo the megabyte
    phones = [{"number": f"+33 1 23 45 {i // 100:02d} {i % 100:02d}"} for i in range(2000)]
    many = api.patch("/me", {"phones": phones})
    assert many.status_code == 422 and many.data["field"] == "phones"
    assert len(many.content) < 2000
    for body, field in [
        ({"name": "Ana\u202eLopez"}, "name"),  # within the schema's bounds: validation.py says no
        ({"languages": ["en"] * 10 + ["fr"]}, "languages"),
        ({"timezone": "Europe/" + "P" * 60}, "timezone"),
    ]:
        refused = api.patch("/me", body)
        assert refused.status_code in (400, 422) and refused.data["field"] == field, body
    assert api.get("/me").data == before
    assert not outbox("colleague-notice")
    assert not AuditEntry.objects.filter(action="profile-updated").exists()


def test_an_authoriser_through_the_api_is_held_to_the_same_bounds(catalog):
    token = _invite(catalog)
    api = ApiClient()
    response = api.post(f"/authorisations/{token}", {"contacts": [{**ANA, "name": "A" * 201}]})
    assert response.status_code == 422 and response.data["field"] == "contacts.0.name"
    five = [{"number": f"+33 1 23 45 67 8{i}"} for i in range(6)]
    response = api.post(f"/authorisations/{token}", {"contacts": [{**ANA, "phones": five}]})
    assert response.status_code == 422 and response.data["field"] == "contacts.0.phones"
    assert not Person.objects.exists()


def test_the_openapi_document_states_the_bounds(client):
    from tldops.directory.validation import NAME_MAX_LENGTH, PHONE_MAX_LENGTH, max_phones

    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]

    def bound(schema: str, prop: str, key: str) -> int:
        found = schemas[schema]["properties"][prop]
        return next(s[key] for s in [found, *found.get("anyOf", [])] if key in s)  # null allowed

    assert bound("ProfilePatch", "name", "maxLength") == NAME_MAX_LENGTH
    assert bound("ProfilePatch", "phones", "maxItems") == max_phones()
    assert bound("ContactIn", "name", "maxLength") == NAME_MAX_LENGTH
    assert bound("ContactIn", "phones", "maxItems") == max_phones()
    assert bound("PhoneIn", "number", "maxLength") == PHONE_MAX_LENGTH


def test_unknown_api_paths_answer_the_apis_json_404_for_any_method(client):
    for path in ("/api/v1/nope", "/api/v1/directory/x/y/z", "/api/v2/contacts", "/api"):
        for method in ("get", "post", "put", "patch", "delete", "options"):
            response = getattr(client, method)(path)
            assert response.status_code == 404, (method, path)
            assert response["Content-Type"].startswith("application/json"), (method, path)
            body = response.json()
            assert body["detail"].startswith("Not Found") and body["field"] is None
        assert client.head(path).status_code == 404
    # The portal's own 404 stays a page.
    assert client.get("/nope").headers["Content-Type"].startswith("text/html")


def test_every_listing_answers_items_and_count(catalog, make_member):
    """No operation answers a bare JSON list: a listing is `{"items": [...], "count": n}`."""
    from tldops.api.router import api

    schema = api.get_openapi_schema()
    bare = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation["responses"]
        .get(200, operation["responses"].get("200", {}))
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
        .get("type")
        == "array"
    ]
    assert bare == ["POST /api/v1/me/leave"]  # not a listing: the memberships it ended
    member = ApiClient(token=token_for(make_member(catalog["fr"])))
    for path in ("/me/tokens", "/repository/editions", "/archive/search?q=x"):
        data = member.get(path).data
        assert set(data) == {"items", "count"}, path
