"""Shared fixtures: a small catalog, staff accounts, members made through the real vetting flow,
and a look at the outbox."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from email.message import Message

import pytest

from tldops.catalog.models import Region, Tld
from tldops.directory import actions, links
from tldops.directory.audit import Actor
from tldops.directory.models import Membership, Person
from tldops.directory.validation import ContactInput
from tldops.mail.models import Delivery

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _mail_to_tmp(settings, tmp_path):
    """Outgoing mail goes to a per-test sink folder; no smarthost.

    Sender verification is off here: most tests are about what happens once a sender is trusted,
    and they must not ask the Internet's DNS. ``tests/mail/test_senderauth.py`` and
    ``test_spoofing.py`` switch it on against a real NSD serving SPF, DKIM and DMARC records.
    """
    settings.MAIL_SINK_DIR = tmp_path / "mail-sink"
    settings.SMARTHOST = ""
    settings.AXES_ENABLED = False
    settings.VERIFY_SENDERS = False


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached fragments are keyed on a counter that restarts with every test's database."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _site_language():
    """Each test ends in the site's language. A request in French leaves French active in the
    thread (Django's LocaleMiddleware activates, nothing resets), and a later test's command or
    mail door would answer in it: tests/alerts/test_cli.py failed after tests/web/test_i18n.py."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture
def make_tld(db) -> Callable[..., Tld]:
    def make(alabel: str, **fields: object) -> Tld:
        ulabel = fields.pop("ulabel", alabel)
        defaults = {
            "ulabel": ulabel,
            "kind": Tld.Kind.IDN if alabel.startswith("xn--") else Tld.Kind.ASCII,
            "iso_code": alabel.upper() if len(alabel) == 2 else "",
            "country_name": "",
            "admin_email": f"admin@nic.{alabel}",
            "manager": f"Registry of .{ulabel}",
        }
        defaults.update(fields)
        return Tld.objects.create(alabel=alabel, **defaults)

    return make


@pytest.fixture
def catalog(make_tld) -> dict[str, Tld]:
    """A handful of ccTLDs: ASCII, IDN, one retired, in two regions."""
    centr = Region.objects.create(code="centr", name="CENTR")
    lactld = Region.objects.create(code="lactld", name="LACTLD")
    tlds = {
        "fr": make_tld("fr", country_name="France", iso_code="FR"),
        "nl": make_tld("nl", country_name="Netherlands", iso_code="NL"),
        "br": make_tld("br", country_name="Brazil", iso_code="BR"),
        "ca": make_tld("ca", country_name="Canada", iso_code="CA"),
        "xn--p1ai": make_tld(
            "xn--p1ai", ulabel="рф", iso_code="RU", country_name="Russian Federation"
        ),
        "ua": make_tld("ua", country_name="Ukraine", iso_code="UA"),
        "an": make_tld("an", delegated=False, country_name="Netherlands Antilles", iso_code=""),
    }
    for code in ("fr", "nl"):
        tlds[code].regions.add(centr)
    tlds["br"].regions.add(lactld)
    return tlds


@pytest.fixture
def staff(db) -> Callable[..., Person]:
    def make(
        role: str = "secretariat", email: str = "sec@tldops.example", position: str = ""
    ) -> Person:
        return actions.create_staff(
            name=email.split("@")[0].title(),
            email=email,
            role=role,
            password=PASSWORD,
            position=position,
            actor=Actor.system(),
        )

    return make


def _invite_and_authorise(tld: Tld, contacts: list[ContactInput]) -> list[Membership]:
    inv = actions.invite_cctld(tld, actor=Actor.system())
    return actions.authorise_contacts(links.invitation_token(inv), contacts, door="web").added


@pytest.fixture
def make_member(db) -> Callable[..., Person]:
    """A member made through the real flow: invitation, authorisation, confirmation."""

    def make(
        tld: Tld,
        name: str = "Ana Lopez",
        email: str | None = None,
        phones: list[tuple[str, str]] | None = None,
        password: str = PASSWORD,
    ) -> Person:
        address = email or f"{name.split()[0].lower()}@nic.{tld.alabel}"
        contact = ContactInput(
            name=name,
            email=address,
            phones=phones if phones is not None else [("+33 1 23 45 67 89", "office")],
            timezone="Europe/Paris",
            languages=["en"],
        )
        (membership,) = _invite_and_authorise(tld, [contact])
        membership.refresh_from_db()
        actions.confirm_contact(links.confirmation_token(membership), door="web", password=password)
        return Person.objects.get(pk=membership.person_id)

    return make


def person_state(email: str) -> dict[str, object]:
    """Everything about a person that only they (or the committee) may change: an authorisation
    naming them must leave all of it as it was."""
    person = Person.objects.select_related("user").get(email__iexact=email)
    return {
        **person.snapshot(),
        "role": person.role,
        "committee_position": person.committee_position,
        "user": person.user_id,
        "password": person.user.password if person.user else None,
    }


def outbox_messages(purpose: str | None = None) -> list[tuple[str, Message]]:
    """(recipient, parsed message) for every queued delivery, oldest first."""
    qs = Delivery.objects.select_related("message").order_by("id")
    if purpose:
        qs = qs.filter(message__purpose=purpose)
    return [
        (d.recipient, email.message_from_bytes(bytes(d.message.raw), policy=email.policy.default))
        for d in qs
    ]


@pytest.fixture
def outbox() -> Callable[..., list[tuple[str, Message]]]:
    return outbox_messages


def body_of(msg: Message) -> str:
    return msg.get_body(("plain",)).get_content()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which would break later tests that call asyncio.run()."""
    items.sort(key=lambda item: "/tests/e2e/" in str(item.fspath).replace("\\", "/"))
