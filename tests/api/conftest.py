"""API fixtures: callers of every role, and a small world for them to act on."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tldops.directory import actions, links, tokens
from tldops.directory.audit import Actor
from tldops.directory.models import Membership, Person, Role
from tldops.directory.validation import ContactInput

API = "/api/v1"


class ApiClient:
    """A Django test client speaking JSON to /api/v1, with a bearer token or a session."""

    def __init__(self, client: Client | None = None, token: str | None = None) -> None:
        self.client = client or Client()
        self.token = token

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        url = path if path.startswith(API) else API + path
        if query:
            url += "?" + urlencode(query)
        kwargs: dict[str, Any] = {}
        if self.token:
            kwargs["headers"] = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        response = getattr(self.client, method.lower())(url, **kwargs)
        # The bytes of the answer, streamed ones (a feed document) read whole, as a client would.
        response.body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        )
        is_json = response.get("Content-Type", "").startswith("application/json")
        response.data = json.loads(response.body) if is_json and response.body else None
        return response

    def get(self, path: str, **query: Any) -> Any:
        return self.call("GET", path, **query)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, {} if body is None else body)

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self.call("PUT", path, body)

    def delete(self, path: str, **query: Any) -> Any:
        return self.call("DELETE", path, **query)


def token_for(person: Person, name: str = "test") -> str:
    """A token as a session of ``person`` that proved its TOTP code would create it."""
    return tokens.create_token(person, name, actor=Actor.system(), second_factor_proved=True)[1]


def verified_session(person: Person, client: Client | None = None) -> Client:
    """A logged-in portal session that passed the TOTP step."""
    client = client or Client()
    device = TOTPDevice.objects.create(user=person.user, name="phone", confirmed=True)
    client.force_login(person.user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def session_token(client: Client, name: str = "script") -> str:
    """A personal token made the way its owner makes one: from their logged-in portal session
    (TOTP-verified for staff), not by the test writing it into the database."""
    response = ApiClient(client=client).post("/me/tokens", {"name": name})
    assert response.status_code == 201, response.data
    return response.data["token"]


def logged_in(person: Person) -> Client:
    """A logged-in portal session, second factor verified for staff (who must pass it)."""
    if person.role == Role.MEMBER:
        client = Client()
        client.force_login(person.user)
        return client
    return verified_session(person)


def link_in(message: Any, kind: str) -> str:
    """The token of the /authorise/<token>/ or /confirm/<token>/ link in a mail."""
    body = message.get_body(("plain",)).get_content()
    match = re.search(rf"/{kind}/([^/\s]+)/", body)
    assert match, body
    return match.group(1)


@dataclass
class World:
    """What the role matrix acts on: a member of each kind and links that still work."""

    clients: dict[str, ApiClient]
    member: Person
    secretariat: Person
    committee: Person
    other: Person
    other_membership: Membership
    invite_token: str
    confirm_token: str
    spare_tokens: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # member, secretariat, committee


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hashing a password the production way takes a good part of a second; tests make many."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_client() -> type[ApiClient]:
    return ApiClient


@pytest.fixture
def world(catalog, make_member, staff) -> World:
    member = make_member(catalog["fr"], "Ana Lopez")
    other = make_member(catalog["br"], "Bruno Silva", phones=[("+55 11 2345 6789", "office")])
    committee = make_member(catalog["nl"], "Nina de Vries", phones=[("+31 20 123 4567", "24/7")])
    actions.set_role(
        committee, role="committee", position="chair", actor=Actor(label="cli", door="cli")
    )
    committee.refresh_from_db()
    secretariat = staff("secretariat")
    invitation = actions.invite_cctld(catalog["ua"], actor=Actor.system())
    pending = actions.authorise_contacts(
        links.invitation_token(actions.invite_cctld(catalog["ca"], actor=Actor.system())),
        [ContactInput(name="Carl Tremblay", email="carl@nic.ca")],
        door="web",
    ).added[0]
    sessions = {
        "member": logged_in(member),
        "secretariat": logged_in(secretariat),
        "committee": logged_in(committee),
    }
    role_tokens = {role: session_token(session) for role, session in sessions.items()}
    clients = {
        "anonymous": ApiClient(),
        "bad token": ApiClient(token="tldops_not-a-real-token"),
        "member": ApiClient(token=role_tokens["member"]),
        "secretariat": ApiClient(token=role_tokens["secretariat"]),
        "committee": ApiClient(client=sessions["committee"]),
    }
    spare = {
        role: tokens.create_token(person, "spare", actor=Actor.system(), second_factor_proved=True)[
            0
        ].pk
        for role, person in (
            ("member", member),
            ("secretariat", secretariat),
            ("committee", committee),
        )
    }
    return World(
        clients=clients,
        member=member,
        secretariat=secretariat,
        committee=committee,
        other=other,
        other_membership=other.memberships.get(),
        invite_token=links.invitation_token(invitation),
        confirm_token=links.confirmation_token(pending),
        spare_tokens=spare,
        tokens=role_tokens,
    )
