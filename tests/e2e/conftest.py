"""Browser tests in real Chromium (Debian's package) driven by Playwright.

Playwright's own browser download is never used: the system chromium is launched with the flags
that keep it off the network. The Django ``live_server`` serves the app on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("TLDOPS_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
# synchronous and safe, so Django's async-safety guard is relaxed for these tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}; scripts/test installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


def _watch_csp(page, violations: list[str]) -> None:
    """Collect what the browser refused under the Content-Security-Policy (tldops/web/headers.py):
    an inline script or style in a template shows up here, and fails the test."""
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []
    _watch_csp(page, violations)
    yield page
    context.close()
    assert not violations, violations


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hashing with PBKDF2 is slow by design; these tests are not about the hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def new_page(browser, live_server) -> Iterator[object]:
    """Open a page in a fresh browser context (its own cookies): one per person in a flow."""
    contexts = []
    violations: list[str] = []

    def make(locale: str = "en-GB", **options: object):
        context = browser.new_context(base_url=live_server.url, locale=locale, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        _watch_csp(page, violations)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not violations, violations


def totp_code(key: bytes, *, steps_ahead: int = 0, step: int | None = None) -> str:
    """The code an authenticator app holding ``key`` shows now (or ``steps_ahead`` steps later,
    or at time step ``step``)."""
    from django_otp.oath import TOTP

    totp = TOTP(key)
    if step is not None:
        totp.time = step * totp.step
    else:
        totp.time = totp.time + steps_ahead * totp.step
    return f"{totp.token():06d}"


def sign_in(page, email: str, password: str, code: str = "") -> None:
    """Fill the login form as a person would and press "Sign in" (from the page it is on)."""
    page.locator('[name="username"]').fill(email)
    page.locator('[name="password"]').fill(password)
    page.locator('[name="otp_token"]').fill(code)
    page.get_by_role("button", name="Sign in", exact=True).click()
