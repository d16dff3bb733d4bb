"""Every API endpoint, called by every role, answers with the status that role deserves.

The endpoints are read from the OpenAPI document, so a new endpoint without an entry in ``EXPECTED``
fails ``test_every_endpoint_has_expectations`` instead of going untested.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tldops.api.router import api

ROLES = ("anonymous", "bad token", "member", "secretariat", "committee")


def _operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema(path_prefix="")
    return sorted((method.upper(), path) for path, ops in schema["paths"].items() for method in ops)


OPERATIONS = _operations()


def public(code: int) -> dict[str, int]:
    """No account needed; a bad token is ignored."""
    return dict.fromkeys(ROLES, code)


def members(code: int, **override: int) -> dict[str, int]:
    return {"anonymous": 401, "bad token": 401, "member": code, "secretariat": code,
            "committee": code, **override}  # fmt: skip


def staff(code: int) -> dict[str, int]:
    return members(code, member=403)


def committee(code: int) -> dict[str, int]:
    return members(code, member=403, secretariat=403)


def _held_post(world: Any, role: str) -> int:
    """A post held for moderation (a non-member's), made for the endpoint under test."""
    from tldops.lists.models import Post
    from tldops.mail.models import InboundMessage

    raw = (
        b"From: Mallory <mallory@spam.example>\r\nTo: tld-ops@tldops.localhost\r\n"
        b"Subject: Offer\r\nMessage-ID: <held@spam.example>\r\n\r\nBuy now.\r\n"
    )
    inbound = InboundMessage.objects.create(mail_from="mallory@spam.example", raw=raw)
    post = Post.objects.create(
        inbound=inbound,
        message_id="<held@spam.example>",
        sender="mallory@spam.example",
        subject="Offer",
        status=Post.Status.HELD,
        reasons=[{"rule": "member", "reason": "not a member"}],
        excerpt="Buy now.\n",  # what the pipeline stores when it holds a post
        moderation_nonce="0123456789abcdef",
    )
    return post.pk


def _archived(world: Any, role: str) -> int:
    """An archived message (a member's accepted post)."""
    from tests.lists.test_archive import archive_msg

    return archive_msg().pk


def _challenge_token(world: Any, role: str) -> str:
    """The link token of the member's reachability check (a round started by hand)."""
    from tldops.repository import reachability
    from tldops.repository.models import Challenge, ChallengeRound

    if not ChallengeRound.objects.filter(period="roles").exists():
        reachability.start_round("roles", trigger="cli")
    return reachability.challenge_token(Challenge.objects.get(person=world.member))


def _edition(world: Any, role: str) -> str:
    """A contact repository edition already sent (see tests/api/test_repository_api.py)."""
    from tests.api.test_repository_api import published_edition

    return published_edition()


def _with_second_factor(world: Any, role: str) -> int:
    """Another member, with an authenticator device to reset."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.get_or_create(user=world.other.user, name="phone", confirmed=True)
    return world.other.pk


def _failed_delivery(world: Any, role: str) -> dict[str, list[int]]:
    """A delivery the outbox gave up on, to send again."""
    from django.utils import timezone

    from tldops.mail.models import Delivery, OutboundMessage

    message = OutboundMessage.objects.create(
        purpose="test", subject="Lost", envelope_from="secretariat@tldops.localhost", raw=b"x"
    )
    delivery = Delivery.objects.create(
        message=message,
        recipient="gone@nic.example",
        status=Delivery.Status.FAILED,
        attempts=8,
        next_attempt_at=timezone.now(),
        last_error="550 no such user",
    )
    return {"ids": [delivery.pk]}


def _alert_filter(world: Any, role: str) -> int:
    """An alert filter of the caller (the member's for the callers without an account)."""
    from tldops.alerts.models import AlertFilter

    return AlertFilter.objects.create(person=getattr(world, role, None) or world.member).pk


def _probe(world: Any, role: str) -> int:
    """A probe of the caller (the member's for the callers without an account)."""
    from tldops.kernel.audit import SystemActor
    from tldops.monitor import probes

    owner = getattr(world, role, None) or world.member
    return probes.create(owner, f"probe of {role}", actor=SystemActor())[0].pk


# (method, path) -> (path parameters, body or query, expected status per role).
def _alert(world: Any, role: str) -> int:
    """A GREEN alert raised by the caller (the member for the callers without an account): its
    author may change its status and add indicators."""
    from tldops.alerts import services
    from tldops.kernel.audit import SystemActor

    author = getattr(world, role, None) or world.member
    alert = services.AlertInput(title="Roles", category="ddos", tlp="GREEN")
    return services.raise_alert(author, alert, actor=SystemActor()).pk


def _incident(world: Any, role: str) -> int:
    """An open incident of a ccTLD the caller is a contact of (the member's for the callers
    without an account); the secretariat is made a contact of .ua for it: only contacts act."""
    from django.utils import timezone

    from tldops.catalog.models import Tld
    from tldops.directory.models import Membership
    from tldops.monitor.models import Incident

    person = getattr(world, role, None) or world.member
    membership = person.memberships.filter(status="active").select_related("tld").first()
    if membership is None:
        membership = Membership.objects.create(
            person=person,
            tld=Tld.objects.get(alabel="ua"),
            status=Membership.Status.ACTIVE,
            number=1,
            authorised_by="admin@nic.ua",
            authorisation_rule="test",
            authorised_via="test",
            authorised_at=timezone.now(),
            confirmed_at=timezone.now(),
        )
    return Incident.objects.create(
        tld=membership.tld,
        code="ALL_SERVERS_DOWN",
        server="",
        severity=50,
        draft_title="Outage",
        draft_body="All servers down.",
        draft_category="outage",
    ).pk


def _own_tld(world: Any, role: str) -> Any:
    """A ccTLD the caller is an active contact of (the member's for the callers without an
    account); the secretariat is made a contact of .ua for it: exercises are their ccTLD's."""
    from django.utils import timezone

    from tldops.catalog.models import Tld
    from tldops.directory.models import Membership

    person = getattr(world, role, None) or world.member
    membership = person.memberships.filter(status="active").select_related("tld").first()
    if membership is None:
        membership = Membership.objects.create(
            person=person,
            tld=Tld.objects.get(alabel="ua"),
            status=Membership.Status.ACTIVE,
            number=1,
            authorised_by="admin@nic.ua",
            authorised_at=timezone.now(),
            authorisation_rule="test",
            authorised_via="test",
            confirmed_at=timezone.now(),
        )
    return membership.tld


def _exercise(world: Any, role: str, **fields: Any) -> int:
    """A running DR/BCP exercise (site loss) of the caller's ccTLD, started by the caller."""
    from tldops.kernel.audit import SystemActor
    from tldops.playbooks import exercises

    person = getattr(world, role, None) or world.member
    fields = {"kind": "exercise", "playbook": "drbcp", "scenario": "site-loss", **fields}
    return exercises.start(person, _own_tld(world, role), actor=SystemActor(), **fields).pk


def _live_ddos(world: Any, role: str) -> int:
    return _exercise(world, role, kind="live", playbook="ddos", scenario="")


def _ended_exercise(world: Any, role: str) -> int:
    from tldops.kernel.audit import SystemActor
    from tldops.playbooks import exercises
    from tldops.playbooks.models import Exercise

    person = getattr(world, role, None) or world.member
    exercise = Exercise.objects.get(pk=_exercise(world, role))
    report = exercises.ReportInput(went_well="Calm.")
    return exercises.end(exercise, person, report, actor=SystemActor()).pk


def _plan_tld(world: Any, role: str) -> str:
    """A ccTLD the caller is an active contact of (the member's for the callers without an
    account), with a saved plan of one version: only a ccTLD's own contacts read or change its
    plan, so staff are made contacts of .ua for it, as for an incident (a staff member who is
    not a contact gets 404: tests/api/test_plans_api.py)."""
    from tldops.directory.audit import Actor
    from tldops.playbooks import plans
    from tldops.playbooks.models import Plan

    person = getattr(world, role, None) or world.member
    _incident(world, role)  # makes the caller a contact of a ccTLD if they are none
    tld = person.memberships.filter(status="active").select_related("tld").first().tld
    if not Plan.objects.filter(tld=tld).exists():
        plans.save(person, tld, {}, actor=Actor.system())
    return tld.alabel


def _plan_put(world: Any, role: str) -> dict[str, Any]:
    """A save of the plan :func:`_plan_tld` made (the path's), based on its version now (an
    older one: 409)."""
    from tldops.playbooks.models import Plan

    person = getattr(world, role, None) or world.member
    tld = person.memberships.filter(status="active").values_list("tld", flat=True).first()
    version = Plan.objects.get(tld=tld).version
    values = {"registry": "Registry", "sites": [{"name": "Main"}]}
    return {"language": "en", "base_version": version, "values": values}


def _signoff_today(world: Any, role: str) -> dict[str, str]:
    """A sign-off dated today (not before the version it signs, not in the future)."""
    from django.utils import timezone

    return {"name": "Pat Doe", "role": "Managing director", "signed_on": str(timezone.localdate())}


def _event_uuid(world: Any, role: str) -> str:
    """The MISP event uuid of a GREEN alert (in the feed of every member and of staff)."""
    from tldops.alerts import exchange

    return exchange.misp_event_uuid(_alert(world, role))


# A path parameter or body may be a callable of (world, role).
Case = tuple[dict[str, Any], Any, dict[str, int]]
EXPECTED: dict[tuple[str, str], Case] = {
    ("GET", "/coverage"): ({}, None, public(200)),
    ("GET", "/catalog/tlds"): ({}, None, members(200)),
    ("GET", "/catalog/tlds/{tld}"): ({"tld": "fr"}, None, members(200)),
    ("POST", "/catalog/tlds/{tld}/regions"): ({"tld": "fr"}, {"region": "lactld"}, committee(200)),
    ("DELETE", "/catalog/tlds/{tld}/regions/{region}"): (
        {"tld": "fr", "region": "centr"},
        None,
        committee(200),
    ),
    ("PATCH", "/catalog/tlds/{tld}"): ({"tld": "fr"}, {"admin_email": "a@nic.fr"}, staff(200)),
    ("POST", "/catalog/admin-contacts/import"): (
        {},
        {"csv": "tld,admin_email\nfr,a@nic.fr\n"},
        staff(200),
    ),
    ("GET", "/directory/contacts"): ({}, None, members(200)),
    ("DELETE", "/directory/contacts/{membership_id}"): (
        {"membership_id": lambda w, r: w.other_membership.pk},
        {"reason": "asked by the admin contact"},
        staff(200),
    ),
    ("GET", "/me"): ({}, None, members(200)),
    ("PATCH", "/me"): ({}, {"timezone": "Europe/Madrid"}, members(200)),
    # The secretariat account is no ccTLD's contact: nothing to leave.
    ("POST", "/me/leave"): ({}, {}, members(200, secretariat=404)),
    ("GET", "/me/tokens"): ({}, None, members(200)),
    # Tokens are created from a portal session only: a token cannot create another.
    ("POST", "/me/tokens"): ({}, {"name": "script"}, members(201, member=403, secretariat=403)),
    ("DELETE", "/me/tokens/{token_id}"): (
        {"token_id": lambda w, r: w.spare_tokens.get(r, 999_999)},
        None,
        members(200),
    ),
    ("GET", "/me/delivery"): ({}, None, members(200)),
    ("PUT", "/me/delivery"): ({}, {"mode": "digest", "digest_format": "plain"}, members(200)),
    ("POST", "/me/email"): ({}, {"email": "new-address@example.org"}, members(202)),
    # Whatever the role, a made-up token is no link.
    ("POST", "/me/email/confirm"): ({}, {"token": "made-up"}, members(410)),
    ("GET", "/invitations"): ({}, None, staff(200)),
    ("POST", "/invitations"): ({}, {"tld": "xn--p1ai"}, staff(201)),
    ("POST", "/invitations/remind"): ({}, {}, staff(200)),
    ("GET", "/audit"): ({}, None, staff(200)),
    ("PUT", "/people/{person_id}/role"): (
        {"person_id": lambda w, r: w.other.pk},
        {"role": "secretariat"},
        committee(200),
    ),
    ("GET", "/authorisations/{token}"): ({"token": lambda w, r: w.invite_token}, None, public(200)),
    ("POST", "/authorisations/{token}"): (
        {"token": lambda w, r: w.invite_token},
        {"contacts": [{"name": "Olena Shevchenko", "email": "olena@nic.ua"}]},
        public(200),
    ),
    ("POST", "/confirmations/{token}"): (
        {"token": lambda w, r: w.confirm_token},
        {"password": "a long enough passphrase"},
        public(200),
    ),
    ("POST", "/confirmations/{token}/decline"): (
        {"token": lambda w, r: w.confirm_token},
        {},
        public(200),
    ),
    ("GET", "/archive/threads"): ({}, None, members(200)),
    ("GET", "/archive/threads/{thread_id}"): ({"thread_id": _archived}, None, members(200)),
    ("GET", "/archive/messages/{message_id}"): ({"message_id": _archived}, None, members(200)),
    ("GET", "/archive/search"): ({}, {"q": "rollover"}, members(200)),
    ("GET", "/moderation/posts"): ({}, None, staff(200)),
    ("POST", "/moderation/posts/{post_id}/approve"): ({"post_id": _held_post}, {}, staff(200)),
    ("POST", "/moderation/posts/{post_id}/reject"): (
        {"post_id": _held_post},
        {"reason": "Off topic for the list"},
        staff(200),
    ),
    ("POST", "/moderation/posts/{post_id}/discard"): ({"post_id": _held_post}, {}, staff(200)),
    ("POST", "/manage-links"): ({}, {"tld": "fr"}, public(202)),
    ("GET", "/reachability/report"): ({}, None, staff(200)),
    ("GET", "/reachability/me"): ({}, None, members(200)),
    ("POST", "/reachability/answer/{token}"): ({"token": _challenge_token}, {}, public(200)),
    ("GET", "/repository/editions"): ({}, None, members(200)),
    ("GET", "/repository/editions/{period}"): ({"period": _edition}, None, members(200)),
    ("GET", "/repository/editions/{period}/{fmt}"): (
        {"period": _edition, "fmt": "txt"},
        None,
        members(200),
    ),
    ("GET", "/repository/current/{fmt}"): ({"fmt": "csv"}, None, members(200)),
    ("POST", "/repository/editions/{period}/resend"): ({"period": _edition}, {}, staff(200)),
    ("GET", "/staff/summary"): ({}, None, staff(200)),
    ("POST", "/people/{person_id}/reset-second-factor"): (
        {"person_id": _with_second_factor},
        {"reason": "lost phone, confirmed by a call"},
        staff(200),
    ),
    ("POST", "/mail/retry"): ({}, _failed_delivery, staff(200)),
    ("GET", "/alerts"): ({}, None, members(200)),
    ("GET", "/alerts/filters"): ({}, None, members(200)),
    ("POST", "/alerts/filters"): ({}, {"categories": ["ddos"], "mode": "digest"}, members(201)),
    ("DELETE", "/alerts/filters/{filter_id}"): ({"filter_id": _alert_filter}, None, members(200)),
    ("GET", "/alerts/{alert_id}"): ({"alert_id": _alert}, None, members(200)),
    ("POST", "/alerts"): ({}, {"title": "Flood", "category": "ddos", "tlp": "GREEN"}, members(201)),
    ("POST", "/alerts/{alert_id}/reactions"): (
        {"alert_id": _alert},
        {"kind": "seen"},
        members(200),
    ),
    ("POST", "/alerts/{alert_id}/indicators"): (
        {"alert_id": _alert},
        {"ignored": "a JSON body is one line: refused, reported"},
        members(200),
    ),
    ("POST", "/alerts/{alert_id}/status"): (
        {"alert_id": _alert},
        {"status": "monitoring"},
        members(200),
    ),
    ("GET", "/alerts/{alert_id}/export/{fmt}"): (
        {"alert_id": _alert, "fmt": "stix"},
        None,
        members(200),
    ),
    ("GET", "/alerts/feed/manifest.json"): ({}, None, members(200)),
    ("GET", "/monitor/overview"): ({}, None, members(200)),
    ("GET", "/monitor/tlds/{alabel}"): ({"alabel": "fr"}, None, members(200)),
    ("GET", "/monitor/tlds/{alabel}/latency"): ({"alabel": "fr"}, {"range": "7d"}, members(200)),
    ("GET", "/monitor/codes"): ({}, None, members(200)),
    ("GET", "/alerts/feed/hashes.csv"): ({}, None, members(200)),
    ("GET", "/alerts/feed/{event_uuid}.json"): ({"event_uuid": _event_uuid}, None, members(200)),
    ("GET", "/monitor/incidents"): ({}, {"open": True}, members(200)),
    ("GET", "/monitor/incidents/{incident_id}"): ({"incident_id": _incident}, None, members(200)),
    ("POST", "/monitor/incidents/{incident_id}/acknowledge"): (
        {"incident_id": _incident},
        {},
        members(200),
    ),
    ("POST", "/monitor/incidents/{incident_id}/notes"): (
        {"incident_id": _incident},
        {"text": "On it."},
        members(201),
    ),
    ("POST", "/monitor/incidents/{incident_id}/close"): (
        {"incident_id": _incident},
        {},
        members(200),
    ),
    ("POST", "/monitor/incidents/{incident_id}/alert"): (
        {"incident_id": _incident},
        {},
        members(201),
    ),
    ("POST", "/alerts/import/{fmt}"): (
        {"fmt": "misp"},
        {
            "Event": {
                "info": "Imported",
                "Tag": [{"name": "tlp:green"}],
                "Attribute": [{"type": "domain", "value": "evil.example"}],
            }
        },
        members(201),
    ),  # fmt: skip
    ("GET", "/monitor/probes"): ({}, None, members(200)),
    ("POST", "/monitor/probes"): ({}, {"name": "Paris office"}, members(201)),
    ("DELETE", "/monitor/probes/{probe_id}"): ({"probe_id": _probe}, None, members(200)),
    ("POST", "/monitor/probes/{probe_id}/reset-key"): (
        {"probe_id": _probe},
        {},
        members(200),
    ),
    # Exercises: the caller's own ccTLD's (everyone else gets 404: tests/api/test_exercises_api.py).
    ("GET", "/exercises"): ({}, {"tld": ""}, members(200)),
    ("POST", "/exercises"): (
        {},
        lambda world, role: {"tld": _own_tld(world, role).alabel, "playbook": "ddos"},
        members(201),
    ),
    ("GET", "/exercises/{exercise_id}"): ({"exercise_id": _exercise}, None, members(200)),
    ("PATCH", "/exercises/{exercise_id}/steps/{step_id}"): (
        {"exercise_id": _exercise, "step_id": "site-loss-h1"},
        {"done": True, "note": "Everyone is safe."},
        members(200),
    ),
    ("POST", "/exercises/{exercise_id}/timeline"): (
        {"exercise_id": _exercise},
        {"kind": "decision", "text": "Move to the backup site."},
        members(201),
    ),
    ("POST", "/exercises/{exercise_id}/injects"): (
        {"exercise_id": _exercise},
        {"title": "Lift out", "text": "Carry the spare server up."},
        members(201),
    ),
    ("POST", "/exercises/{exercise_id}/links"): (
        {"exercise_id": _live_ddos},
        lambda world, role: {"alert_id": _alert(world, role)},
        members(200),
    ),
    ("POST", "/exercises/{exercise_id}/end"): (
        {"exercise_id": _exercise},
        {"went_well": "Calm.", "actions": [{"text": "Keep tokens off site", "owner": "Ana"}]},
        members(200),
    ),
    ("GET", "/exercises/{exercise_id}/report"): (
        {"exercise_id": _ended_exercise},
        None,
        members(200),
    ),
    ("GET", "/plans/{tld}"): ({"tld": _plan_tld}, None, members(200)),
    ("PUT", "/plans/{tld}"): (
        {"tld": _plan_tld},
        _plan_put,
        members(200),
    ),
    ("GET", "/plans/{tld}/versions"): ({"tld": _plan_tld}, None, members(200)),
    ("POST", "/plans/{tld}/signoffs"): (
        {"tld": _plan_tld},
        _signoff_today,
        members(201),
    ),
    ("GET", "/plans/{tld}.pdf"): ({"tld": _plan_tld}, None, members(200)),
    ("GET", "/plans/{tld}/versions/{number}.pdf"): (
        {"tld": _plan_tld, "number": 1},
        None,
        members(200),
    ),
    # A probe's token only: every person's credential (token or session) is refused.
    ("POST", "/monitor/reports"): ({}, {"report_id": "x"}, public(401)),
    ("GET", "/monitor/tlds"): ({}, None, public(401)),
}


def test_every_endpoint_has_expectations():
    assert sorted(EXPECTED) == OPERATIONS


def _resolve(value: Any, world: Any, role: str) -> Any:
    return value(world, role) if isinstance(value, Callable) else value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_role_matrix(world, method, path, role):
    params, payload, expected = EXPECTED[(method, path)]
    url = path.format(**{k: _resolve(v, world, role) for k, v in params.items()})
    client = world.clients[role]
    payload = _resolve(payload, world, role)
    if method in ("GET", "DELETE"):
        response = client.call(method, url, **(payload or {}))
    else:
        response = client.call(method, url, payload)
    assert response.status_code == expected[role], (role, method, path, response.data)
    if response.status_code >= 400:
        assert set(response.data) >= {"detail", "field"}
        assert response.data["detail"]


def test_bad_token_is_refused_even_with_a_valid_session(world):
    client = world.clients["committee"]
    client.token = "tldops_revoked-or-made-up"
    response = client.get("/me")
    assert response.status_code == 401
    assert "token" in response.data["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- A token carries the role it was created under -------------------------------------------------


def _promote(person: Any, role: str) -> None:
    from tldops.directory import actions
    from tldops.directory.audit import Actor

    position = "chair" if role == "committee" else ""
    actions.set_role(person, role=role, position=position, actor=Actor(label="cli", door="cli"))


@pytest.mark.parametrize("role", ["secretariat", "committee"])
def test_a_members_token_gains_no_staff_powers_on_promotion(world, api_client, role):
    """A token made while its owner was a member (no second factor needed) stays a member's token
    after a promotion: staff powers need a token created by a TOTP-verified staff session."""
    from tests.api.conftest import token_for

    member = world.member
    old = api_client(token=token_for(member))
    assert old.get("/invitations").status_code == 403
    _promote(member, role)
    assert old.get("/invitations").status_code == 403
    assert old.get("/audit").status_code == 403
    assert old.get("/moderation/posts").status_code == 403
    # Still a member's powers: the directory and the catalog.
    assert old.get("/directory/contacts").status_code == 200
    # Nor may it change roles or moderate, even where the endpoint's own check is bypassed.
    refused = old.put(f"/people/{world.other.pk}/role", {"role": "secretariat"})
    assert refused.status_code == 403
    assert old.get("/me/tokens").data["items"][0]["scope"] == "member"
    # A token made now, from the promoted person's verified session, has the staff role.
    new = api_client(token=token_for(member))
    assert new.get("/invitations").status_code == 200


def test_a_staff_token_needs_a_verified_session(world, api_client):
    from tldops.directory import tokens
    from tldops.directory.audit import Actor

    _token, plaintext = tokens.create_token(
        world.secretariat, "unverified", actor=Actor.system(), second_factor_proved=False
    )
    assert _token.scope == "member"
    assert api_client(token=plaintext).get("/invitations").status_code == 403


def test_services_check_the_tokens_role_not_the_persons(world):
    from tldops.directory import actions, tokens
    from tldops.directory.audit import Actor
    from tldops.kernel.errors import NotAuthorised

    plaintext = tokens.create_token(
        world.member, "script", actor=Actor.system(), second_factor_proved=True
    )[1]
    _promote(world.member, "committee")
    person = tokens.person_for_token(plaintext)
    assert person.role == "committee"
    with pytest.raises(NotAuthorised):
        actions.set_role(world.other, role="secretariat", actor=Actor.of(person, "api"))
    assert Actor.of(person, "api").label.startswith("member:")


def test_a_demoted_persons_staff_token_loses_staff_powers(world, api_client):
    from tests.api.conftest import token_for

    token = api_client(token=token_for(world.committee))
    assert token.get("/audit").status_code == 200
    _promote(world.committee, "member")
    assert token.get("/audit").status_code == 403


def test_the_migration_gives_existing_tokens_the_role_they_were_created_under(world):
    """0003_apitoken_scope reads the role from the audit entry written when each token was made."""
    import importlib

    from django.apps import apps

    from tldops.directory import tokens
    from tldops.directory.audit import Actor
    from tldops.directory.models import ApiToken

    migration = importlib.import_module("tldops.directory.migrations.0003_apitoken_scope")
    as_member = tokens.create_token(
        world.member, "old script", actor=Actor.of(world.member, "web"), second_factor_proved=True
    )[0]
    _promote(world.member, "committee")
    as_staff = tokens.create_token(
        world.secretariat,
        "staff script",
        actor=Actor.of(world.secretariat, "web"),
        second_factor_proved=True,
    )[0]
    ApiToken.objects.update(scope="member")  # as the new column's default leaves them
    migration.scope_from_audit(apps, None)
    assert ApiToken.objects.get(pk=as_member.pk).scope == "member"
    assert ApiToken.objects.get(pk=as_staff.pk).scope == "secretariat"
