"""A ccTLD's own plan: values checked, saved as versions, signed off, prefilled from the catalog
and the directory, printed with every placeholder filled, reminded of yearly; and readable by its
ccTLD's active contacts only."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from django.db.models import ProtectedError
from django.utils import timezone

from tests.playbooks.plan_fixtures import BLANK, full_values
from tldops.catalog.models import NameServer
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry, Phone
from tldops.kernel.errors import InvalidInput, NotFound
from tldops.mail.models import Delivery, OutboundMessage
from tldops.playbooks import plans
from tldops.playbooks.models import Plan, PlanVersion, ReviewReminder, SignedText, SignOff


@pytest.fixture
def contact(catalog, make_member):
    return make_member(catalog["fr"], "Ana Lopez")


def _save(person, tld, values=None, language="en"):
    return plans.save(
        person, tld, values or full_values(), language=language, actor=Actor.of(person, "web")
    )


def test_every_save_is_a_numbered_version_with_an_audit_entry(contact, catalog):
    first = _save(contact, catalog["fr"])
    values = full_values()
    values["incident_lead"] = "Jean Dupont"
    second = _save(contact, catalog["fr"], values, language="fr")
    plan = Plan.objects.get(tld=catalog["fr"])
    assert (first.number, second.number, plan.version) == (1, 2, 2)
    assert plan.language == "fr" and plan.updated_by == contact
    assert PlanVersion.objects.get(plan=plan, number=1).values["incident_lead"] == "Ana Lopez"
    assert second.values["incident_lead"] == "Jean Dupont"
    assert second.content_version == 1 and second.language == "fr"
    assert AuditEntry.objects.filter(action="plan.saved").count() == 2
    # Phones come back in international form, read in the ccTLD's country.
    assert second.values["phone_24x7"] == "+33 1 39 30 83 00"


def test_bad_values_are_all_reported_and_nothing_is_stored(contact, catalog):
    values = full_values()
    values["website"] = "javascript:alert(1)"
    values["phone_24x7"] = "call me"
    values["sites"][1]["role"] = "basement"
    values["roles"].append({"role": "king", "person": "", "deputy": "", "phone": ""})
    values["suppliers"][0]["email"] = "not-an-address"
    values["nonsense"] = "x"
    with pytest.raises(InvalidInput) as caught:
        _save(contact, catalog["fr"], values)
    problems = {(e.field, e.index) for e in caught.value.errors}
    assert problems >= {
        ("website", None),
        ("phone_24x7", None),
        ("sites.role", 1),
        ("roles.role", 2),
        ("roles.person", 2),
        ("suppliers.email", 0),
        ("values", None),
    }
    assert not Plan.objects.exists() and not AuditEntry.objects.filter(action="plan.saved").exists()


def test_sizes_are_bounded(contact, catalog):
    values = full_values()
    values["registry"] = "x" * 201
    values["sites"] = [{"name": f"Site {n}"} for n in range(11)]
    with pytest.raises(InvalidInput) as caught:
        _save(contact, catalog["fr"], values)
    assert {e.field for e in caught.value.errors} == {"registry", "sites"}
    with pytest.raises(InvalidInput):
        _save(contact, catalog["fr"], language="tlh")


def test_empty_rows_of_a_form_are_dropped(contact, catalog):
    values = full_values()
    values["sites"].append({"name": "  ", "address": "", "role": "", "notes": ""})
    saved = _save(contact, catalog["fr"], values)
    assert len(saved.values["sites"]) == 2


def test_sign_off_is_recorded_on_a_version(contact, catalog):
    _save(contact, catalog["fr"])
    _save(contact, catalog["fr"])
    today = timezone.localdate()
    signed = plans.sign_off(
        contact, catalog["fr"], name="Pierre Bonnet", role="Managing director",
        signed_on=today.isoformat(), version_number=1, actor=Actor.of(contact, "web"),
    )  # fmt: skip
    assert signed.version.number == 1 and signed.recorded_by == contact
    assert AuditEntry.objects.filter(action="plan.signed_off").count() == 1
    for bad, field in (
        ({"signed_on": (today + dt.timedelta(days=1)).isoformat()}, "signed_on"),
        ({"signed_on": "yesterday"}, "signed_on"),
        ({"name": ""}, "name"),
        ({"version_number": 9}, "version"),
    ):
        kwargs = {"name": "P", "role": "MD", "signed_on": today.isoformat(), **bad}
        with pytest.raises(InvalidInput) as caught:
            plans.sign_off(contact, catalog["fr"], actor=Actor.of(contact, "web"), **kwargs)
        assert caught.value.field == field
    assert SignOff.objects.count() == 1


def test_a_plan_is_its_contacts_only(contact, catalog, make_member, staff):
    _save(contact, catalog["fr"])
    other_member = make_member(catalog["br"], "Bruno Silva")
    secretariat = staff("secretariat")
    committee = staff("committee", email="chair@tldops.example")
    for person in (other_member, secretariat, committee, None):
        for call in (
            lambda p: plans.get(p, catalog["fr"]),
            lambda p: plans.versions(p, catalog["fr"]),
            lambda p: plans.version(p, catalog["fr"], 1),
            lambda p: plans.current_values(p, catalog["fr"]),
            lambda p: plans.save(p, catalog["fr"], full_values(), actor=Actor.system()),
            lambda p: plans.sign_off(
                p, catalog["fr"], name="X", role="Y", signed_on="2026-01-01", actor=Actor.system()
            ),
        ):
            with pytest.raises(NotFound):
                call(person)
    # A ccTLD without a plan answers the same: its existence does not leak.
    with pytest.raises(NotFound):
        plans.get(other_member, catalog["nl"])
    assert PlanVersion.objects.count() == 1


def test_prefill_from_the_catalog_and_the_directory(catalog, make_member):
    tld = catalog["fr"]
    for host in (
        "d.nic.fr",
        "e.ext.nic.fr",
        "f.ext.nic.fr",
        "g.ns.example.net",
        "h.ns.example.net",
    ):
        NameServer.objects.create(tld=tld, hostname=host)
    make_member(tld, "Ana Lopez")
    lead = make_member(tld, "Jean Dupont", phones=[("+33 6 12 34 56 78", "24/7")])
    assert lead.phones.get().label == Phone.Label.H24
    found = plans.prefill(tld)
    assert found.values["registry"] == "Registry of .fr"
    assert found.values["dns_providers"] == [
        {"name": "example.net", "servers": "g.ns.example.net, h.ns.example.net", "contact": ""},
        {"name": "nic.fr", "servers": "d.nic.fr, e.ext.nic.fr, f.ext.nic.fr", "contact": ""},
    ]
    assert [c.name for c in found.candidates] == ["Ana Lopez", "Jean Dupont"]
    assert found.values["incident_lead"] == "Jean Dupont"  # the one with a 24/7 phone
    assert found.values["phone_24x7"] == "+33 6 12 34 56 78"
    assert found.values["website"] == ""  # the catalog does not know it
    # The prefilled values are valid plan values as they are.
    assert plans.clean_values(found.values, tld)["dns_providers"] == found.values["dns_providers"]


def _text_of(pdf: bytes, tmp_path) -> str:
    """The PDF's text in the order it is drawn (``-raw``: a table cell's wrapped lines stay
    together), white space made single spaces."""
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
    ).stdout.decode()
    return " ".join(out.split())


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_a_full_plan_leaves_no_placeholder(contact, catalog, tmp_path, language):
    _save(contact, catalog["fr"], language=language)
    plan, values = plans.current_values(contact, catalog["fr"])
    src = plans.source(plan, catalog["fr"], values)
    texts = [b.text for b in plans.blocks(src)] + [
        cell for b in plans.blocks(src) for row in b.rows for cell in (*b.columns, *row)
    ]
    joined = "\n".join(texts)
    assert "{{" not in joined and not BLANK.search(joined), BLANK.search(joined)
    assert "__________" in joined  # the date is a line to write on
    text = _text_of(plans.pdf(src), tmp_path)
    assert "{{" not in text and not BLANK.search(text)
    for value in ("Pierre Bonnet", "Example Hosting Co", "Lyon backup", "Example Anycast",
                  "Example Escrow Services", "registrars@nic.example", ".fr"):  # fmt: skip
        assert value in text, value
    if language == "en":
        assert "Not signed off" in text and "Version 1" in text
        assert "+00 000" not in text  # the playbook's example tables are gone


def test_a_signed_version_prints_its_sign_off(contact, catalog, tmp_path):
    _save(contact, catalog["fr"])
    plans.sign_off(
        contact, catalog["fr"], name="Pierre Bonnet", role="Managing director",
        signed_on=timezone.localdate(), actor=Actor.of(contact, "web"),
    )  # fmt: skip
    text = _text_of(
        plans.pdf(plans.version_source(plans.version(contact, catalog["fr"], 1))), tmp_path
    )
    assert "Signed off by Pierre Bonnet (Managing director)" in text


# --- The yearly review reminder --------------------------------------------------------------------


def _reminders():
    return list(OutboundMessage.objects.filter(purpose="plan-review"))


def test_reminder_a_year_after_creation_once_then_a_year_after_sign_off(
    contact, catalog, make_member, settings
):
    settings.BASE_URL = "https://tldops.example"
    second = make_member(catalog["fr"], "Jean Dupont")
    make_member(catalog["br"], "Bruno Silva")  # another ccTLD's contact: not reminded
    _save(contact, catalog["fr"])
    plan = Plan.objects.get()
    created = timezone.now() - dt.timedelta(days=366)
    Plan.objects.filter(pk=plan.pk).update(created_at=created)
    PlanVersion.objects.filter(plan=plan).update(created_at=created)

    assert plans.run_due(timezone.now() - dt.timedelta(days=2)) == 0  # not yet a year
    assert plans.run_due() == 1
    assert plans.run_due() == 0  # once per period
    (message,) = _reminders()
    recipients = set(Delivery.objects.filter(message=message).values_list("recipient", flat=True))
    assert recipients == {contact.email, second.email}
    raw = message.raw.decode()
    assert "https://tldops.example/plans/fr/" in raw and "DR/BCP plan of .fr" in raw
    assert ReviewReminder.objects.get().period == created.date().replace(year=created.year + 1)

    # A sign-off moves the next review a year after it.
    plans.sign_off(
        contact, catalog["fr"], name="Pierre Bonnet", role="MD",
        signed_on=timezone.localdate() - dt.timedelta(days=10), actor=Actor.of(contact, "web"),
    )  # fmt: skip
    assert plans.run_due(timezone.now() + dt.timedelta(days=300)) == 0
    assert plans.run_due(timezone.now() + dt.timedelta(days=360)) == 1
    assert plans.run_due(timezone.now() + dt.timedelta(days=361)) == 0
    assert len(_reminders()) == 2


def test_a_reminder_that_fails_to_queue_leaves_no_mark(contact, catalog, monkeypatch):
    _save(contact, catalog["fr"])
    Plan.objects.update(created_at=timezone.now() - dt.timedelta(days=400))

    def broken(*args, **kwargs):
        raise RuntimeError("crash while queueing")

    monkeypatch.setattr(plans.outbox, "send_template", broken)
    with pytest.raises(RuntimeError):
        plans.run_due()
    assert not ReviewReminder.objects.exists() and not _reminders()
    monkeypatch.undo()
    assert plans.run_due() == 1 and len(_reminders()) == 1


def test_the_worker_runs_the_reminder(contact, catalog):
    from tldops.ops.worker import Worker

    _save(contact, catalog["fr"])
    Plan.objects.update(created_at=timezone.now() - dt.timedelta(days=400))
    report = Worker().run_once()
    assert "plan-reviews" not in report.errors
    assert len(_reminders()) == 1


# --- Review fixes (issue 12 review, items 2, 3, 6, 7, 8) -------------------------------------------


def test_the_audit_log_says_which_version_was_signed_but_not_by_whom(contact, catalog):
    """Staff read the audit log but not the plan: the entry names no signer and no role."""
    _save(contact, catalog["fr"])
    plans.sign_off(
        contact, catalog["fr"], name="Pierre Bonnet", role="Managing director",
        signed_on=timezone.localdate(), actor=Actor.of(contact, "web"),
    )  # fmt: skip
    entry = AuditEntry.objects.get(action="plan.signed_off")
    assert entry.summary == "DR/BCP plan of .fr version 1 signed off"
    stored = f"{entry.summary} {entry.before} {entry.after}"
    for secret in ("Pierre", "Bonnet", "Managing", "director"):
        assert secret not in stored, secret
    assert entry.after["version"] == 1


def _changed_playbook(monkeypatch):
    """The playbook's text and content version as a later release has them."""
    real_localize, real_load = plans.catalogs.localize, plans.content.load

    def localize(playbook, language):
        doc = real_localize(playbook, language)
        doc.book["title"] = "A rewritten playbook"
        doc.book["version"] = 2
        return doc

    monkeypatch.setattr(plans.catalogs, "localize", localize)
    monkeypatch.setattr(plans.content, "load", lambda p: {**real_load(p), "version": 2})


def _texts(src):
    return [b.text for b in plans.blocks(src)]


def test_a_signed_version_keeps_the_text_it_was_signed_with(contact, catalog, monkeypatch):
    _save(contact, catalog["fr"], language="fr")
    _save(contact, catalog["fr"])
    plans.sign_off(
        contact, catalog["fr"], name="Pierre Bonnet", role="MD", signed_on=timezone.localdate(),
        version_number=1, actor=Actor.of(contact, "web"),
    )  # fmt: skip
    signed_title = plans.catalogs.localize("drbcp", "fr").book["title"]
    _changed_playbook(monkeypatch)

    src = plans.version_source(plans.version(contact, catalog["fr"], 1))
    signed = _texts(src)
    assert "A rewritten playbook" not in signed and signed_title in signed
    assert src.content_version == 1
    assert PlanVersion.objects.get(number=1).content_version == 1
    # A second sign-off of the same version signs the same frozen text.
    plans.sign_off(
        contact, catalog["fr"], name="Marie Curie", role="Chair", signed_on=timezone.localdate(),
        version_number=1, actor=Actor.of(contact, "web"),
    )  # fmt: skip
    assert "A rewritten playbook" not in _texts(
        plans.version_source(plans.version(contact, catalog["fr"], 1))
    )
    # An unsigned version, and the current plan, show today's text.
    unsigned = plans.version_source(plans.version(contact, catalog["fr"], 2))
    assert "A rewritten playbook" in _texts(unsigned)
    plan, values = plans.current_values(contact, catalog["fr"])
    assert "A rewritten playbook" in _texts(plans.source(plan, catalog["fr"], values))
    # Signing version 2 now freezes today's text and says which content version it is.
    plans.sign_off(
        contact, catalog["fr"], name="Pierre Bonnet", role="MD", signed_on=timezone.localdate(),
        version_number=2, actor=Actor.of(contact, "web"),
    )  # fmt: skip
    assert PlanVersion.objects.get(number=2).content_version == 2
    monkeypatch.undo()
    two = _texts(plans.version_source(plans.version(contact, catalog["fr"], 2)))
    assert "A rewritten playbook" in two and "Playbook content version 2" in two


def test_versions_signed_with_the_same_text_share_one_stored_text(contact, catalog, monkeypatch):
    """Save and sign, again and again: the playbook's text (74–365 KB) is stored once for all
    the versions signed with it, not once a version; a new text (or language) is a new row."""
    for _n in range(3):
        _save(contact, catalog["fr"])
        plans.sign_off(
            contact, catalog["fr"], name="Pierre Bonnet", role="MD",
            signed_on=timezone.localdate(), actor=Actor.of(contact, "web"),
        )  # fmt: skip
    assert SignedText.objects.count() == 1
    text = SignedText.objects.get()
    assert set(PlanVersion.objects.values_list("signed_text", flat=True)) == {text.pk}
    assert (text.language, text.content_version) == ("en", 1)
    assert text.digest == plans.text_digest("en", text.book) and len(text.digest) == 64
    _save(contact, catalog["fr"], language="fr")
    _changed_playbook(monkeypatch)
    _save(contact, catalog["fr"], language="fr")
    for number in (4, 5):
        plans.sign_off(
            contact, catalog["fr"], name="Pierre Bonnet", role="MD",
            signed_on=timezone.localdate(), version_number=number,
            actor=Actor.of(contact, "web"),
        )  # fmt: skip
    assert SignedText.objects.count() == 2  # the English one, and today's French one for both
    four, five = (PlanVersion.objects.get(number=n) for n in (4, 5))
    assert four.signed_text_id == five.signed_text_id != text.pk
    assert five.signed_text.content_version == 2 and five.content_version == 2
    monkeypatch.undo()
    # Each prints the text it was signed with; a stored text cannot be deleted under them.
    assert "A rewritten playbook" in _texts(plans.version_source(four))
    assert "A rewritten playbook" not in _texts(
        plans.version_source(plans.version(contact, catalog["fr"], 1))
    )
    with pytest.raises(ProtectedError):
        text.delete()


def test_an_unsigned_version_prints_todays_content_version(contact, catalog, monkeypatch, tmp_path):
    """An unsigned version prints today's playbook text, so its cover says today's content
    version (not the one it was saved with) and that it is printed with the current text:
    management may read and sign exactly that print."""
    _save(contact, catalog["fr"])
    _save(contact, catalog["fr"])
    plans.sign_off(
        contact, catalog["fr"], name="Pierre Bonnet", role="MD", signed_on=timezone.localdate(),
        version_number=2, actor=Actor.of(contact, "web"),
    )  # fmt: skip
    _changed_playbook(monkeypatch)
    old = plans.version(contact, catalog["fr"], 1)
    assert old.content_version == 1  # what it was saved with, as the API lists it
    src = plans.version_source(old)
    assert src.content_version == 2
    text = _text_of(plans.pdf(src), tmp_path)
    assert "A rewritten playbook" in text and "Playbook content version 2" in text
    assert "Playbook content version 1" not in text
    assert "Printed with the current playbook text." in text
    # The signed version keeps its text, its content version and no such note.
    signed = _texts(plans.version_source(plans.version(contact, catalog["fr"], 2)))
    assert "Playbook content version 1" in signed
    assert "Printed with the current playbook text." not in signed


def test_saves_per_hour_are_bounded(contact, catalog, monkeypatch):
    """A loop of saves is refused after MAX_SAVES_PER_HOUR in an hour (409, nothing stored);
    saves older than an hour do not count."""
    monkeypatch.setattr(plans, "MAX_SAVES_PER_HOUR", 3)
    for _n in range(3):
        _save(contact, catalog["fr"])
    with pytest.raises(InvalidInput) as caught:
        _save(contact, catalog["fr"])
    assert caught.value.status == 409 and caught.value.field == "values"
    assert "saved 3 times in the last hour" in caught.value.message
    assert Plan.objects.get().version == 3 and PlanVersion.objects.count() == 3
    PlanVersion.objects.filter(number=1).update(
        created_at=timezone.now() - dt.timedelta(hours=1, minutes=1)
    )
    assert _save(contact, catalog["fr"]).number == 4


def test_a_save_based_on_an_old_version_is_refused(contact, catalog, make_member):
    """Two contacts edit at once: the second save, made from the version both started from, is
    refused (409 in the API) instead of silently undoing the first one's changes."""
    jean = make_member(catalog["fr"], "Jean Dupont")
    plans.save(contact, catalog["fr"], full_values(), base_version=0, actor=Actor.system())
    with pytest.raises(InvalidInput) as caught:
        plans.save(jean, catalog["fr"], {}, base_version=0, actor=Actor.system())
    assert caught.value.status == 409 and caught.value.field == "base_version"
    assert "Version 1 of the plan was saved" in caught.value.message
    plan = Plan.objects.get()
    assert plan.version == 1 and plan.values["top_manager"] == "Pierre Bonnet"
    assert PlanVersion.objects.count() == 1
    assert AuditEntry.objects.filter(action="plan.saved").count() == 1
    assert plans.save(jean, catalog["fr"], {}, base_version=1, actor=Actor.system()).number == 2


def test_plan_url_is_the_plan_page(catalog):
    assert plans.plan_url(catalog["fr"]) == "/plans/fr/"


def test_no_reminder_mark_while_nobody_can_be_told(contact, catalog, make_member):
    _save(contact, catalog["fr"])
    Plan.objects.update(created_at=timezone.now() - dt.timedelta(days=400))
    contact.memberships.update(status="left")
    assert plans.run_due() == 0
    assert not ReviewReminder.objects.exists() and not _reminders()
    assert not AuditEntry.objects.filter(action="plan.review_reminder").exists()
    # A contact joins: the reminder that could not go out goes out now.
    newcomer = make_member(catalog["fr"], "Jean Dupont")
    assert plans.run_due() == 1
    (message,) = _reminders()
    assert set(Delivery.objects.filter(message=message).values_list("recipient", flat=True)) == {
        newcomer.email
    }


def test_a_back_dated_sign_off_right_after_a_reminder_sends_no_second_one(contact, catalog):
    _save(contact, catalog["fr"])
    created = timezone.now() - dt.timedelta(days=400)
    Plan.objects.update(created_at=created)
    PlanVersion.objects.update(created_at=created)
    assert plans.run_due() == 1
    # Top management had signed three weeks after the plan was made; recorded only now.
    plans.sign_off(
        contact, catalog["fr"], name="Pierre Bonnet", role="MD",
        signed_on=timezone.localdate(created) + dt.timedelta(days=20),
        actor=Actor.of(contact, "web"),
    )  # fmt: skip
    assert plans.review_period(Plan.objects.get(), timezone.localdate()) is not None
    assert plans.run_due() == 0
    assert plans.run_due(timezone.now() + dt.timedelta(days=200)) == 0
    assert len(_reminders()) == 1
    # The next anniversary of the sign-off is reminded as usual.
    assert plans.run_due(timezone.now() + dt.timedelta(days=365)) == 1
    assert len(_reminders()) == 2


def test_the_worker_locks_only_plans_that_are_due(contact, catalog, make_member, monkeypatch):
    _save(contact, catalog["fr"])
    Plan.objects.update(created_at=timezone.now() - dt.timedelta(days=400))
    assert plans.run_due() == 1
    other = make_member(catalog["br"], "Bruno Silva")
    plans.save(other, catalog["br"], {}, actor=Actor.system())
    Plan.objects.filter(tld=catalog["br"]).update(
        created_at=timezone.now() - dt.timedelta(days=400)
    )
    PlanVersion.objects.filter(plan__tld=catalog["br"]).update(
        created_at=timezone.now() - dt.timedelta(days=400)
    )
    plans.sign_off(
        other, catalog["br"], name="Chefe", role="CEO", signed_on=timezone.localdate(),
        actor=Actor.of(other, "web"),
    )  # fmt: skip
    locked = []
    real = plans.send_review_reminder
    monkeypatch.setattr(
        plans, "send_review_reminder", lambda pk, today: locked.append(pk) or real(pk, today)
    )
    # .fr was reminded for this year, .br signed off today: neither is locked.
    assert plans.run_due() == 0 and locked == []
