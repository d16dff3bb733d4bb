"""Per-person delivery (issue 9): staff receive the list and editions by choice, members choose
regular, daily digest (MIME or plain) or no mail until a date; editions always arrive."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from datetime import UTC, datetime

import pytest

from tests.lists.posting import deliver, fast_passwords, message, post  # noqa: F401 (autouse)
from tldops.directory import delivery
from tldops.directory.audit import Actor
from tldops.directory.delivery import Audience, DeliveryChange
from tldops.directory.models import AuditEntry, Person
from tldops.kernel.errors import InvalidInput, NotAuthorised
from tldops.lists import digest
from tldops.lists.models import ArchivedMessage, Digest, DigestItem
from tldops.ops.worker import Worker
from tldops.repository import editions

pytestmark = pytest.mark.django_db

REQUEST = "tld-ops-request@tldops.localhost"


@pytest.fixture
def people(catalog, make_member, staff):
    return {
        "ana": make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr"),
        "bob": make_member(catalog["nl"], "Bob Jansen", "bob@nic.nl"),
        "carla": make_member(catalog["br"], "Carla Souza", "carla@nic.br"),
        "sec": staff("secretariat", "sec@tldops.example"),
        "chair": staff("committee", "chair@tldops.example"),
    }


def choose(person: Person, **change: object) -> Person:
    return delivery.update_delivery(person, DeliveryChange(**change), actor=Actor.of(person, "web"))


def post_copies(outbox) -> list[str]:
    return sorted(r for r, _m in outbox("list-post"))


def digests(outbox):
    return outbox(digest.PURPOSE)


def after_digest_time(days: int = 0) -> datetime:
    today = dt.datetime.now(UTC).date() + dt.timedelta(days=days)
    return datetime.combine(today, dt.time(23, 0), tzinfo=UTC)


# --- item 9: staff ---------------------------------------------------------------------------------


def test_staff_receive_posts_and_editions_by_default_and_may_stop(people, outbox):
    post(message(sender="ana@nic.fr"))
    assert post_copies(outbox) == sorted(
        ["ana@nic.fr", "bob@nic.nl", "carla@nic.br", "sec@tldops.example", "chair@tldops.example"]
    )
    editions.publish("2026-11", trigger="cli")
    assert "sec@tldops.example" in [r for r, _m in outbox("repository")]

    choose(people["sec"], receive_list=False)
    choose(people["chair"], receive_editions=False)
    post(message(sender="bob@nic.nl", subject="second"))
    latest = outbox("list-post")[-4:]
    assert sorted(r for r, _m in latest) == sorted(
        ["ana@nic.fr", "bob@nic.nl", "carla@nic.br", "chair@tldops.example"]
    )
    assert "sec@tldops.example" in delivery.recipients(Audience.EDITION)
    assert "chair@tldops.example" not in delivery.recipients(Audience.EDITION)
    # What must reach everyone does, whatever anyone chose.
    assert {"sec@tldops.example", "chair@tldops.example"} <= set(
        delivery.recipients(Audience.ESSENTIAL)
    )
    assert AuditEntry.objects.filter(action="delivery-updated", person=people["sec"]).exists()


def test_a_staff_member_who_is_also_a_contact_gets_one_copy(catalog, make_member, staff, outbox):
    make_member(catalog["fr"], "Ana Lopez", "ana@nic.fr")
    both = make_member(catalog["nl"], "Sam Both", "sam@nic.nl")
    Person.objects.filter(pk=both.pk).update(role="secretariat")
    post(message(sender="ana@nic.fr"))
    copies = post_copies(outbox)
    assert copies.count("sam@nic.nl") == 1
    editions.publish("2026-11", trigger="cli")
    assert [r for r, _m in outbox("repository")].count("sam@nic.nl") == 1
    assert delivery.recipients(Audience.ESSENTIAL).count("sam@nic.nl") == 1


def test_members_cannot_switch_off_the_list_or_the_editions(people):
    with pytest.raises(InvalidInput) as exc:
        choose(people["ana"], receive_editions=False)
    assert exc.value.field == "receive_editions"
    ana = Person.objects.get(pk=people["ana"].pk)
    assert ana.receive_editions and not AuditEntry.objects.filter(action="delivery-updated")


def test_nobody_changes_another_members_delivery(people):
    with pytest.raises(NotAuthorised):
        delivery.update_delivery(
            people["ana"], DeliveryChange(mode="digest"), actor=Actor.of(people["bob"], "api")
        )
    assert Person.objects.get(pk=people["ana"].pk).delivery_mode == "regular"


# --- delivery options --------------------------------------------------------------------------------


def test_digest_members_get_no_copy_and_one_mime_digest_the_next_run(people, outbox):
    choose(people["bob"], mode="digest")  # MIME by default
    first = post(message(sender="ana@nic.fr", subject="Flood on the DNS"))
    second = post(message(sender="carla@nic.br", subject="Phishing wave"))
    assert "bob@nic.nl" not in post_copies(outbox)
    assert "ana@nic.fr" in post_copies(outbox)
    assert DigestItem.objects.filter(person=people["bob"]).count() == 2

    early = datetime.combine(dt.datetime.now(UTC).date(), dt.time(5, 59), tzinfo=UTC)
    assert digest.run_due(early) == 0  # before DIGEST_TIME (06:00)
    assert digest.run_due(after_digest_time()) == 1
    assert digest.run_due(after_digest_time()) == 0  # idempotent: no second digest that day
    ((to, msg),) = digests(outbox)
    assert to == "bob@nic.nl"
    day = dt.datetime.now(UTC).date().isoformat()
    assert msg["Subject"] == f"[TLD-OPS] Digest, {day}, 2 messages"
    assert msg["List-Id"] == "TLD-OPS <tld-ops.tldops.localhost>"
    assert msg.get_content_type() == "multipart/mixed"
    toc, inner, *_footer = msg.iter_parts()
    text = toc.get_content()
    assert "Flood on the DNS" in text and "Phishing wave" in text
    archived = ArchivedMessage.objects.get(post=first)
    assert f"/archive/message/{archived.pk}/" in text
    assert inner.get_content_type() == "multipart/digest"
    parts = list(inner.iter_parts())
    assert [p.get_content_type() for p in parts] == ["message/rfc822", "message/rfc822"]
    subjects = [p.get_content()["Subject"] for p in parts]
    assert subjects == ["[TLD-OPS] Flood on the DNS", "[TLD-OPS] Phishing wave"]
    assert "random subdomain" in parts[0].get_content().get_body(("plain",)).get_content()
    assert not DigestItem.objects.exists()
    assert Digest.objects.get(person=people["bob"]).count == 2
    assert second.status == "accepted"


def test_plain_digest_parses_as_one_text(people, outbox):
    choose(people["bob"], mode="digest", digest_format="plain")
    post(message(sender="ana@nic.fr", subject="Flood on the DNS"))
    assert digest.run_due(after_digest_time()) == 1
    ((_to, msg),) = digests(outbox)
    raw = msg.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content_type() == "text/plain"
    body = parsed.get_content()
    assert "Subject: Flood on the DNS" in body
    assert "From: Ana Lopez <ana@nic.fr>" in body
    assert "random subdomain" in body
    assert "/archive/message/" in body
    assert parsed["Subject"].endswith(", 1 message")


def test_the_worker_sends_the_digest_once(people, outbox, settings):
    settings.DIGEST_TIME = "00:00"
    choose(people["bob"], mode="digest")
    post(message(sender="ana@nic.fr"))
    Worker().run_once()
    Worker().run_once()  # a second worker's round, or a restart: nothing more
    assert len(digests(outbox)) == 1


def test_the_next_day_gets_its_own_digest(people, outbox):
    choose(people["bob"], mode="digest")
    post(message(sender="ana@nic.fr", subject="one"))
    assert digest.run_due(after_digest_time()) == 1
    post(message(sender="ana@nic.fr", subject="two"))
    assert digest.run_due(after_digest_time()) == 0  # one a day
    assert digest.run_due(after_digest_time(days=1)) == 1
    assert len(digests(outbox)) == 2


def test_nomail_members_get_no_posts_but_the_edition_then_posts_again(people, outbox):
    until = dt.datetime.now(UTC).date() + dt.timedelta(days=10)
    choose(people["carla"], mode="nomail", nomail_until=until.isoformat())
    post(message(sender="ana@nic.fr"))
    assert "carla@nic.br" not in post_copies(outbox)
    editions.publish("2026-11", trigger="cli")
    assert "carla@nic.br" in [r for r, _m in outbox("repository")]
    assert "carla@nic.br" in delivery.recipients(Audience.ESSENTIAL)

    # The day after the end date, posts come again, by themselves.
    later = until + dt.timedelta(days=1)
    assert "carla@nic.br" in delivery.recipients(Audience.LIST, today=later)
    Person.objects.filter(pk=people["carla"].pk).update(
        nomail_until=dt.datetime.now(UTC).date() - dt.timedelta(days=1)
    )
    post(message(sender="ana@nic.fr", subject="after the holidays"))
    assert [r for r, _m in outbox("list-post")].count("carla@nic.br") == 1


@pytest.mark.parametrize(
    ("until", "field"),
    [
        (None, "nomail_until"),
        ("tomorrow", "nomail_until"),
        (-1, "nomail_until"),
        (91, "nomail_until"),
    ],
)
def test_nomail_needs_a_bounded_end_date(people, until, field):
    today = dt.datetime.now(UTC).date()
    value = (today + dt.timedelta(days=until)).isoformat() if isinstance(until, int) else until
    with pytest.raises(InvalidInput) as exc:
        choose(people["ana"], mode="nomail", nomail_until=value)
    assert exc.value.field == field
    ana = Person.objects.get(pk=people["ana"].pk)
    assert ana.delivery_mode == "regular" and ana.nomail_until is None


def test_nomail_up_to_the_bound_is_accepted(people):
    last = dt.datetime.now(UTC).date() + dt.timedelta(days=90)
    ana = choose(people["ana"], mode="nomail", nomail_until=last.isoformat())
    assert ana.nomail_until == last
    assert choose(ana, mode="regular").nomail_until is None


def test_digest_items_wait_during_nomail(people, outbox):
    choose(people["bob"], mode="digest")
    post(message(sender="ana@nic.fr"))
    until = dt.datetime.now(UTC).date() + dt.timedelta(days=3)
    choose(people["bob"], mode="nomail", nomail_until=until.isoformat())
    assert digest.run_due(after_digest_time()) == 0
    assert digest.run_due(after_digest_time(days=4)) == 1  # after the no-mail days


# --- the -request address --------------------------------------------------------------------------


def ask(body: str, sender: str = "ana@nic.fr"):
    return deliver(message(sender=sender, to=REQUEST, subject="command", body=body), to=REQUEST)


def reply_text(outbox) -> str:
    return outbox("list-request-reply")[-1][1].get_content()


def test_request_set_delivery_digest_and_back(people, outbox):
    ask("set delivery digest plain\n")
    ana = Person.objects.get(pk=people["ana"].pk)
    assert (ana.delivery_mode, ana.digest_format) == ("digest", "plain")
    assert "Done. You now receive: a daily digest (plain)" in reply_text(outbox)
    until = (dt.datetime.now(UTC).date() + dt.timedelta(days=5)).isoformat()
    ask(f"set delivery nomail until {until}\n")
    assert Person.objects.get(pk=ana.pk).nomail_until.isoformat() == until
    ask("set delivery regular\n")
    assert Person.objects.get(pk=ana.pk).delivery_mode == "regular"
    entry = AuditEntry.objects.filter(action="delivery-updated").first()
    assert entry.door == "email"


def test_request_set_delivery_refuses_bad_input_and_strangers(people, outbox):
    ask("set delivery nomail until 2099-01-01\n")
    assert "at most 90 days" in reply_text(outbox)
    ask("set delivery sometimes\n")
    assert "set delivery regular" in reply_text(outbox)
    ask("set delivery digest\n", sender="eve@evil.test")
    assert "does not receive the list" in reply_text(outbox)
    assert Person.objects.get(pk=people["ana"].pk).delivery_mode == "regular"


def test_request_help_documents_set_delivery(people, outbox):
    ask("help\n")
    text = reply_text(outbox)
    assert "set delivery digest [mime|plain]" in text
    assert "set delivery nomail until YYYY-MM-DD" in text


# --- the CLI (staff acting for someone, at the server) ----------------------------------------------


def test_cli_shows_and_sets_delivery_audited(people):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command("members", "delivery", "ana@nic.fr", stdout=out)
    assert "each post as it is sent" in out.getvalue()
    out = io.StringIO()
    call_command(
        "members", "delivery", "ana@nic.fr", "--mode", "digest", "--digest-format", "plain",
        stdout=out,
    )  # fmt: skip
    assert "a daily digest (plain)" in out.getvalue()
    entry = AuditEntry.objects.get(action="delivery-updated")
    assert entry.door == "cli" and entry.person == people["ana"]
    call_command("members", "delivery", "sec@tldops.example", "--receive-list", "no", stdout=out)
    assert not Person.objects.get(email="sec@tldops.example").receive_list
    with pytest.raises(CommandError, match="at most 90 days"):
        call_command(
            "members", "delivery", "ana@nic.fr", "--mode", "nomail", "--until", "2099-01-01"
        )
    assert Person.objects.get(pk=people["ana"].pk).delivery_mode == "digest"


def test_request_set_delivery_from_an_unverified_sender_changes_nothing(people):
    from tldops.lists import requests

    said = requests.set_delivery(
        "ana@nic.fr", "set delivery nomail until 2026-12-31", unverified="Forged, it seems."
    )
    assert "Forged, it seems." in said["error"] and "not changed" in said["error"]
    assert Person.objects.get(pk=people["ana"].pk).delivery_mode == "regular"


@pytest.mark.parametrize("fmt", ["mime", "plain"])
def test_a_digest_of_non_ascii_posts_parses(people, outbox, fmt):
    choose(people["bob"], mode="digest", digest_format=fmt)
    post(message(sender="ana@nic.fr", name="Élodie Martin", subject="Attaque sur .рф",
                 body="Résolveurs saturés — 攻击\n"))  # fmt: skip
    assert digest.run_due(after_digest_time()) == 1
    ((_to, msg),) = digests(outbox)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    if fmt == "plain":
        text = parsed.get_content()
    else:
        (inner,) = next(p for p in parsed.iter_parts() if p.is_multipart()).iter_parts()
        text = inner.get_content().get_body(("plain",)).get_content()
        assert "Attaque sur .рф" in inner.get_content()["Subject"]
    assert "Résolveurs saturés — 攻击" in text
