"""Property-based tests of the API against its own OpenAPI document (schemathesis).

Requests go in-process to Django's WSGI application, no network. Covered: the public endpoints and
the endpoints a member may use, called with a member's token. Every generated request must get a
documented status, a response that matches its schema, and never a server error.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from tests.api.conftest import token_for

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

# What a member may call without changing who they are (leaving and revoking would end the run).
MEMBER_OPERATIONS = {
    ("GET", "/api/v1/coverage"),
    ("GET", "/api/v1/catalog/tlds"),
    ("GET", "/api/v1/catalog/tlds/{tld}"),
    ("GET", "/api/v1/directory/contacts"),
    ("GET", "/api/v1/me"),
    ("PATCH", "/api/v1/me"),
    ("GET", "/api/v1/me/tokens"),
    ("GET", "/api/v1/authorisations/{token}"),
    ("POST", "/api/v1/authorisations/{token}"),
    ("POST", "/api/v1/confirmations/{token}"),
    ("POST", "/api/v1/manage-links"),
    ("GET", "/api/v1/reachability/me"),
    ("POST", "/api/v1/reachability/answer/{token}"),
}


class InTestTransaction:
    """Django's WSGI handler, minus the end-of-request connection close (as Django's test client
    does), so requests run inside the test's transaction and see its data."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            return list(self.handler(environ, start_response))
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


@pytest.fixture
def member_token(catalog, make_member) -> str:
    make_member(catalog["nl"], "Jan de Vries", phones=[("+31 20 123 4567", "24/7")])
    return token_for(make_member(catalog["fr"]))


from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES  # noqa: E402

# A query string over the bound is refused with 414 (tldops.web.limits) before any endpoint reads
# it: a rejection too.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "414"]
            }
        }
    }
)

schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", InTestTransaction(), config=CONFIG
).include(lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in MEMBER_OPERATIONS)


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,  # the same cases every run: CI is not flaky, a failure reproduces
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_openapi_document(case, member_token):
    # Not checked: that every schema-valid request is accepted. The API refuses well-formed values
    # that mean nothing (an unknown ccTLD, an invalid phone number) with 400 by design.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {member_token}"},
        excluded_checks=[positive_data_acceptance],
    )
