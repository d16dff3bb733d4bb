"""The API's role matrix, written once here, and held against every endpoint by fuzzing.

``LOWEST_ROLE`` says, for every operation of the OpenAPI document, the lowest role that may use it.
Roles are ordered: public (no credential) < member < secretariat < committee; a role may use what
the roles below it may. The endpoints enforce it in code (``require_member``, ``require_staff``,
``require_committee`` in tldops.api.auth, ``auth=None`` for the public ones); this table is the
second, independent statement of it, so changing who may call an endpoint takes a deliberate edit
here too, and a new endpoint without an entry fails ``test_every_operation_has_a_lowest_role``.

Two tests read the table:

* ``test_expected_statuses_follow_the_matrix`` holds the exact statuses of tests/api/test_roles.py
  (one minimal valid request per operation and role, run by ``test_role_matrix`` there) to it:
  forbidden roles get 401/403, allowed roles never do.
* ``test_no_forbidden_role_gets_a_2xx`` sends schemathesis-generated requests to every operation
  with the token of each role and asserts that a role the matrix forbids never gets a 2xx, and that
  nobody gets a 5xx. Path parameters alternate between generated values and real objects (the ones
  test_roles.py uses), so the generated bodies also reach the code behind the role checks.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, settings

from tests.api.test_roles import EXPECTED, OPERATIONS, _resolve
from tests.api.test_schemathesis import InTestTransaction

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.config import SchemathesisConfig  # noqa: E402

ROLES = ("public", "member", "secretariat", "committee")
RANK = {role: rank for rank, role in enumerate(ROLES)}

PUBLIC, MEMBER, STAFF, COMMITTEE = "public", "member", "secretariat", "committee"

# (method, path under /api/v1) -> the lowest role allowed. Edit with care: this is the security
# policy of the API. "secretariat" means staff: the secretariat and the committee.
LOWEST_ROLE: dict[tuple[str, str], str] = {
    # Public: no account; the vetting links' tokens are the credential.
    ("GET", "/coverage"): PUBLIC,
    ("GET", "/authorisations/{token}"): PUBLIC,
    ("POST", "/authorisations/{token}"): PUBLIC,
    ("POST", "/confirmations/{token}"): PUBLIC,
    ("POST", "/confirmations/{token}/decline"): PUBLIC,  # the signed link is the credential
    ("POST", "/manage-links"): PUBLIC,
    ("POST", "/reachability/answer/{token}"): PUBLIC,
    # Members (and staff, who read what members read).
    ("GET", "/catalog/tlds"): MEMBER,
    ("GET", "/catalog/tlds/{tld}"): MEMBER,
    ("GET", "/directory/contacts"): MEMBER,
    ("GET", "/me"): MEMBER,
    ("PATCH", "/me"): MEMBER,
    ("POST", "/me/leave"): MEMBER,
    ("GET", "/me/tokens"): MEMBER,
    ("POST", "/me/tokens"): MEMBER,  # and only from a portal session: see SESSION_ONLY
    ("DELETE", "/me/tokens/{token_id}"): MEMBER,
    ("GET", "/me/delivery"): MEMBER,
    ("PUT", "/me/delivery"): MEMBER,
    ("POST", "/me/email"): MEMBER,
    ("POST", "/me/email/confirm"): MEMBER,
    ("GET", "/archive/threads"): MEMBER,
    ("GET", "/archive/threads/{thread_id}"): MEMBER,
    ("GET", "/archive/messages/{message_id}"): MEMBER,
    ("GET", "/archive/search"): MEMBER,
    ("GET", "/reachability/me"): MEMBER,
    ("GET", "/repository/editions"): MEMBER,
    ("GET", "/repository/editions/{period}"): MEMBER,
    ("GET", "/repository/editions/{period}/{fmt}"): MEMBER,
    ("GET", "/repository/current/{fmt}"): MEMBER,
    ("GET", "/alerts"): MEMBER,
    ("GET", "/alerts/{alert_id}"): MEMBER,
    ("POST", "/alerts"): MEMBER,
    ("POST", "/alerts/{alert_id}/reactions"): MEMBER,
    ("POST", "/alerts/{alert_id}/status"): MEMBER,  # its author, or staff
    ("POST", "/alerts/{alert_id}/indicators"): MEMBER,  # its author
    ("GET", "/alerts/{alert_id}/export/{fmt}"): MEMBER,  # those who may read it (TLP)
    ("POST", "/alerts/import/{fmt}"): MEMBER,
    ("GET", "/alerts/feed/manifest.json"): MEMBER,  # the alerts the caller may read (TLP)
    ("GET", "/alerts/feed/hashes.csv"): MEMBER,
    ("GET", "/alerts/feed/{event_uuid}.json"): MEMBER,
    ("GET", "/alerts/filters"): MEMBER,  # one's own
    ("GET", "/monitor/overview"): MEMBER,
    ("GET", "/monitor/tlds/{alabel}"): MEMBER,
    ("GET", "/monitor/tlds/{alabel}/latency"): MEMBER,
    ("GET", "/monitor/codes"): MEMBER,
    ("POST", "/alerts/filters"): MEMBER,
    ("DELETE", "/alerts/filters/{filter_id}"): MEMBER,  # one's own only: 404 otherwise
    ("GET", "/monitor/probes"): MEMBER,  # one's own
    ("POST", "/monitor/probes"): MEMBER,
    ("DELETE", "/monitor/probes/{probe_id}"): MEMBER,  # one's own (staff: any): 404 otherwise
    ("POST", "/monitor/probes/{probe_id}/reset-key"): MEMBER,  # one's own (staff: any)
    # A probe's own calls: its token is the credential; every person's is refused (PROBE_ONLY).
    ("POST", "/monitor/reports"): PUBLIC,
    ("GET", "/monitor/tlds"): PUBLIC,
    ("GET", "/monitor/incidents"): MEMBER,
    ("GET", "/monitor/incidents/{incident_id}"): MEMBER,
    # The contacts of the incident's ccTLD only (staff too only if they are): 403 otherwise.
    ("POST", "/monitor/incidents/{incident_id}/acknowledge"): MEMBER,
    ("POST", "/monitor/incidents/{incident_id}/notes"): MEMBER,
    ("POST", "/monitor/incidents/{incident_id}/close"): MEMBER,
    ("POST", "/monitor/incidents/{incident_id}/alert"): MEMBER,
    # Exercises and live use: the active contacts of the exercise's ccTLD only (staff too only
    # if they are); 404 for everyone else, so that an exercise's existence does not leak.
    ("GET", "/exercises"): MEMBER,
    ("POST", "/exercises"): MEMBER,
    ("GET", "/exercises/{exercise_id}"): MEMBER,
    ("PATCH", "/exercises/{exercise_id}/steps/{step_id}"): MEMBER,
    ("POST", "/exercises/{exercise_id}/timeline"): MEMBER,
    ("POST", "/exercises/{exercise_id}/injects"): MEMBER,
    ("POST", "/exercises/{exercise_id}/links"): MEMBER,
    ("POST", "/exercises/{exercise_id}/end"): MEMBER,
    ("GET", "/exercises/{exercise_id}/report"): MEMBER,
    # A ccTLD's own DR/BCP plan: its active contacts only, staff included only if they are one;
    # 404 to everyone else (tests/api/test_plans_api.py), so no role gets more than the member.
    ("GET", "/plans/{tld}"): MEMBER,
    ("PUT", "/plans/{tld}"): MEMBER,
    ("GET", "/plans/{tld}/versions"): MEMBER,
    ("POST", "/plans/{tld}/signoffs"): MEMBER,
    ("GET", "/plans/{tld}.pdf"): MEMBER,
    ("GET", "/plans/{tld}/versions/{number}.pdf"): MEMBER,
    # Staff: the secretariat and the standing committee.
    ("DELETE", "/directory/contacts/{membership_id}"): STAFF,
    ("GET", "/invitations"): STAFF,
    ("POST", "/invitations"): STAFF,
    ("POST", "/invitations/remind"): STAFF,
    ("GET", "/audit"): STAFF,
    ("GET", "/moderation/posts"): STAFF,
    ("POST", "/moderation/posts/{post_id}/approve"): STAFF,
    ("POST", "/moderation/posts/{post_id}/reject"): STAFF,
    ("POST", "/moderation/posts/{post_id}/discard"): STAFF,
    ("GET", "/reachability/report"): STAFF,
    ("PATCH", "/catalog/tlds/{tld}"): STAFF,
    ("POST", "/catalog/admin-contacts/import"): STAFF,
    ("POST", "/repository/editions/{period}/resend"): STAFF,
    ("GET", "/staff/summary"): STAFF,
    ("POST", "/people/{person_id}/reset-second-factor"): STAFF,
    ("POST", "/mail/retry"): STAFF,
    # The standing committee only.
    ("POST", "/catalog/tlds/{tld}/regions"): COMMITTEE,
    ("DELETE", "/catalog/tlds/{tld}/regions/{region}"): COMMITTEE,
    ("PUT", "/people/{person_id}/role"): COMMITTEE,
}

# Operations that refuse every bearer token, whatever the role: a token cannot create another.
SESSION_ONLY = {("POST", "/me/tokens")}

# Operations for a probe's token only (tldprobe_…): no person's credential, whatever the role, and
# no credential at all, gets a 2xx (a probe's token is not one of the roles' tokens).
PROBE_ONLY = {("POST", "/monitor/reports"), ("GET", "/monitor/tlds")}

# test_roles.py's callers, by the role they stand for.
TEST_ROLES_CALLERS = {
    "anonymous": PUBLIC,
    "bad token": PUBLIC,
    "member": MEMBER,
    "secretariat": STAFF,
    "committee": COMMITTEE,
}


def allowed(operation: tuple[str, str], role: str) -> bool:
    """Whether the matrix lets ``role`` use ``operation``."""
    return RANK[role] >= RANK[LOWEST_ROLE[operation]]


def test_every_operation_has_a_lowest_role():
    missing = sorted(set(OPERATIONS) - set(LOWEST_ROLE))
    stale = sorted(set(LOWEST_ROLE) - set(OPERATIONS))
    assert not missing, f"operations without a lowest role in LOWEST_ROLE: {missing}"
    assert not stale, f"LOWEST_ROLE lists operations the API no longer has: {stale}"
    assert set(LOWEST_ROLE.values()) <= set(ROLES)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_expected_statuses_follow_the_matrix(method, path):
    """test_roles.py calls every operation once per role and checks the exact status it expects
    there; those expectations must agree with the matrix."""
    operation = (method, path)
    expected = EXPECTED[operation][2]
    for caller, role in TEST_ROLES_CALLERS.items():
        status = expected[caller]
        if not allowed(operation, role):
            assert status in (401, 403), (caller, status, "forbidden by LOWEST_ROLE")
        elif operation in PROBE_ONLY:
            assert status == 401, (caller, status, "a probe's token only")
        elif operation not in SESSION_ONLY:
            assert status not in (401, 403), (caller, status, "allowed by LOWEST_ROLE")


# --- Generated requests, with every role's token ----------------------------------------------------

PREFIX = "/api/v1"

# Bounded for CI: no coverage phase (it enumerates every boundary value the schema allows, without
# a cap); the examples and fuzzing phases, positive and negative data, max_examples per operation.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})

fuzzed = schemathesis.openapi.from_wsgi(
    f"{PREFIX}/openapi.json", InTestTransaction(), config=CONFIG
)


def _operation(case: Any) -> tuple[str, str]:
    return case.operation.method.upper(), case.operation.path.removeprefix(PREFIX)


def _real_path_parameters(world: Any, operation: tuple[str, str], role: str) -> dict[str, Any]:
    """Existing objects for the operation's path parameters, as test_roles.py uses them; made once
    per operation and role (outside the rolled-back calls, so they stay)."""
    memo = world.__dict__.setdefault("_real_path_parameters", {})
    if (operation, role) not in memo:
        params = EXPECTED[operation][0]
        memo[(operation, role)] = {k: _resolve(v, world, role) for k, v in params.items()}
    return memo[(operation, role)]


def _call(case: Any, token: str | None) -> Any:
    """Send ``case`` with ``token`` (or no credential) and undo whatever it changed: every role
    and every example starts from the same world."""
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    case.headers = headers
    case.cookies = {}  # no portal session: the role is the token's
    with transaction.atomic():
        response = case.call()
        transaction.set_rollback(True)
    cache.clear()  # fragments cached during the call may describe the rolled-back state
    return response


@fuzzed.parametrize()
@settings(
    max_examples=6,
    derandomize=True,  # the same cases every run: CI is not flaky, a failure reproduces
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_forbidden_role_gets_a_2xx(case, world):
    operation = _operation(case)
    assert operation in LOWEST_ROLE, f"{operation} has no lowest role in LOWEST_ROLE"
    counter = world.__dict__.setdefault("_examples", [0])
    counter[0] += 1
    generated = dict(case.path_parameters or {})
    for role in ROLES:
        if counter[0] % 2 == 0 and generated:
            case.path_parameters = {
                **generated,
                **_real_path_parameters(world, operation, role if role != PUBLIC else MEMBER),
            }
        else:
            case.path_parameters = generated
        response = _call(case, world.tokens.get(role))
        where = f"{role} {case.method} {case.formatted_path}: {response.status_code}"
        assert response.status_code < 500, f"server error for {where}\n{response.text[:500]}"
        if (
            not allowed(operation, role)
            or (role != PUBLIC and operation in SESSION_ONLY)
            or operation in PROBE_ONLY
        ):
            assert not 200 <= response.status_code < 300, (
                f"{where}, but LOWEST_ROLE says {LOWEST_ROLE[operation]}\n{response.text[:500]}"
            )
