"""The directory's CLI commands, called as Django commands (and one through a real subprocess)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.conftest import PASSWORD
from tldops.cli import EXIT_ERROR, EXIT_NOT_FOUND, EXIT_USAGE
from tldops.directory.models import AuditEntry, Invitation, Membership, Person


def run(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    kwargs = {"stdout": out}
    if stdin is not None:
        kwargs["stdin"] = io.StringIO(stdin)
    call_command(*args, **kwargs)
    return out.getvalue()


def fails(*args: str, stdin: str | None = None) -> CommandError:
    with pytest.raises(CommandError) as exc:
        run(*args, stdin=stdin)
    return exc.value


# --- invite ----------------------------------------------------------------------------------------


def test_invite_named_cctlds_in_any_spelling(catalog, outbox):
    out = run("invite", ".FR", "рф", "--batch", "june")
    assert ".fr" in out and ".рф (xn--p1ai)" in out
    sent = {i.tld.alabel: i for i in Invitation.objects.select_related("tld")}
    assert set(sent) == {"fr", "xn--p1ai"}
    assert {i.batch for i in sent.values()} == {"june"}
    assert sorted(r for r, _m in outbox("invite")) == ["admin@nic.fr", "admin@nic.xn--p1ai"]
    entry = AuditEntry.objects.filter(action="invite").first()
    assert entry.door == "cli" and entry.actor.startswith("cli:")


def test_invite_unknown_cctld_sends_nothing(catalog):
    err = fails("invite", "fr", "zz")
    assert err.returncode == EXIT_NOT_FOUND
    assert "“zz” is not a known ccTLD" in str(err)
    assert not Invitation.objects.exists()


def test_invite_without_admin_address_reports_it(catalog, make_tld):
    make_tld("de", admin_email="")
    out = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("invite", "de", "nl", "--format", "json", stdout=out)
    assert exc.value.returncode == EXIT_ERROR
    rows = {r["tld"]: r for r in json.loads(out.getvalue())}
    assert rows[".nl"]["result"] == "invited"
    assert rows[".de"]["result"] == "skipped" and "no known email" in rows[".de"]["detail"]


def test_invite_needs_cctlds_or_a_range(catalog):
    assert fails("invite").returncode == EXIT_USAGE
    assert fails("invite", "fr", "--from", "a").returncode == EXIT_USAGE
    assert fails("invite", "--from", "d", "--to", "b").returncode == EXIT_USAGE


def test_alphabetical_batch_skips_covered_and_already_invited(catalog, make_member, outbox):
    make_member(catalog["ca"])  # covered: never in a batch
    dry = json.loads(run("invite", "--from", "a", "--to", "c", "--dry-run", "--format", "json"))
    assert [r["tld"] for r in dry] == [".br"]  # an (retired) and ca (covered) are left out
    assert Invitation.objects.filter(tld__alabel="br").count() == 0

    first = json.loads(
        run("invite", "--from", "a", "--to", "c", "--batch", "b1", "--format", "json")
    )
    assert [(r["tld"], r["result"]) for r in first] == [(".br", "invited")]
    again = json.loads(run("invite", "--from", "a", "--to", "c", "--format", "json"))
    assert again == []  # br's invitation is still open
    forced = json.loads(
        run("invite", "--from", "a", "--to", "c", "--include-invited", "--format", "json")
    )
    assert [r["tld"] for r in forced] == [".br"]
    statuses = list(
        Invitation.objects.filter(tld__alabel="br").order_by("id").values_list("status", flat=True)
    )
    assert statuses == ["cancelled", "sent"]


def test_invite_status_tracks_and_filters(catalog):
    run("invite", "fr", "--batch", "b1")
    run("invite", "nl", "--batch", "b2")
    rows = json.loads(run("invite", "status", "--format", "json"))
    assert {r["tld"] for r in rows} == {".fr", ".nl"}
    only = json.loads(run("invite", "status", "--batch", "b2", "--format", "json"))
    assert [r["tld"] for r in only] == [".nl"]
    assert json.loads(run("invite", "status", "--status", "answered", "--format", "json")) == []
    table = run("invite", "status", "--status", "answered")
    assert "No invitation matches." in table
    parsed = list(csv.DictReader(io.StringIO(run("invite", "status", "--format", "csv"))))
    assert {r["sent_to"] for r in parsed} == {"admin@nic.fr", "admin@nic.nl"}
    assert fails("invite", "fr", "--status", "sent").returncode == EXIT_USAGE
    assert fails("invite", "status", "fr").returncode == EXIT_USAGE


def test_invite_remind_sends_what_is_due(catalog, outbox, settings):
    settings.INVITATION_REMINDER_DAYS = [7, 14]
    run("invite", "fr")
    assert "0 reminder(s) sent" in run("invite", "remind")
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=8))
    assert "1 reminder(s) sent" in run("invite", "remind")
    assert "0 reminder(s) sent" in run("invite", "remind")
    assert len(outbox("invite-reminder")) == 1


# --- members ---------------------------------------------------------------------------------------


def test_members_list_show_and_filters(catalog, make_member):
    make_member(catalog["fr"], name="Ana Lopez", phones=[("+33 1 23 45 67 89", "24/7")])
    make_member(catalog["nl"], name="Bram de Vries", phones=[])
    rows = json.loads(run("members", "list", "--format", "json"))
    assert [(r["tld"], r["name"]) for r in rows] == [(".fr", "Ana Lopez"), (".nl", "Bram de Vries")]
    assert rows[0]["phones"] == ["+33 1 23 45 67 89 (24/7)"]
    assert [
        r["name"] for r in json.loads(run("members", "list", "--tld", ".NL", "--format", "json"))
    ] == ["Bram de Vries"]
    assert [
        r["email"]
        for r in json.loads(run("members", "list", "--search", "lopez", "--format", "json"))
    ] == ["ana@nic.fr"]
    assert "No contact matches." in run("members", "list", "--search", "nobody")
    shown = json.loads(run("members", "show", "ANA@nic.fr", "--format", "json"))
    assert shown[0]["tld"] == ".fr" and shown[0]["status"] == "active"
    assert shown[0]["rule"] == "signed-link"
    assert fails("members", "show", "ghost@nic.fr").returncode == EXIT_NOT_FOUND
    assert fails("members", "list", "--tld", "zz").returncode == EXIT_NOT_FOUND


def test_members_add_records_a_paper_authorisation(catalog, outbox):
    out = run(
        "members",
        "add",
        "fr",
        "--name",
        "Marie Curie",
        "--email",
        "marie@nic.fr",
        "--phone",
        "+33 1 23 45 67 89:office",
        "--phone",
        "+33 6 12 34 56 78:24/7",
        "--tz",
        "Europe/Paris",
        "--lang",
        "fr,en",
    )
    assert "contact 1 of .fr" in out
    m = Membership.objects.select_related("person").get()
    assert (m.status, m.authorisation_rule, m.authorised_via) == ("pending", "secretariat", "cli")
    assert m.authorised_by.startswith("cli:")
    assert [(p.number, p.label) for p in m.person.phones.all()] == [
        ("+33123456789", "office"),
        ("+33612345678", "24/7"),
    ]
    assert [r for r, _m in outbox("confirmation")] == ["marie@nic.fr"]


def test_members_add_refuses_bad_input_and_the_fourth_contact(catalog, settings):
    err = fails(
        "members", "add", "fr", "--name", "X", "--email", "x@nic.fr", "--phone", "12:office"
    )
    assert err.returncode == EXIT_ERROR and "is not a valid phone number" in str(err)
    assert not Person.objects.exists()
    settings.MAX_CONTACTS_PER_CCTLD = 1
    run("members", "add", "fr", "--name", "A", "--email", "a@nic.fr")
    err = fails("members", "add", "fr", "--name", "B", "--email", "b@nic.fr")
    assert err.returncode == EXIT_ERROR and "most allowed" in str(err)


def test_members_remove_and_set_role(catalog, make_member, outbox):
    make_member(catalog["fr"], name="Ana Lopez")
    err = fails("members", "remove", "fr", "7", "--reason", "left the company")
    assert err.returncode == EXIT_NOT_FOUND
    out = run("members", "remove", "fr", "1", "--reason", "left the company")
    assert "no longer a contact of .fr" in out
    assert Membership.objects.get().status == "removed"
    assert "left the company" in AuditEntry.objects.get(action="contact-removed").summary

    run("members", "set-role", "ana@nic.fr", "committee", "--position", "vice-chair")
    ana = Person.objects.get(email="ana@nic.fr")
    assert (ana.role, ana.committee_position) == ("committee", "vice-chair")
    assert fails(
        "members", "set-role", "ana@nic.fr", "member", "--position", "chair"
    ).returncode == (EXIT_USAGE)
    assert fails("members", "set-role", "ghost@nic.fr", "member").returncode == EXIT_NOT_FOUND


# --- coverage, createadmin -------------------------------------------------------------------------


def test_coverage_totals_and_list(catalog, make_member):
    make_member(catalog["fr"])
    rows = {r["scope"]: r for r in json.loads(run("coverage", "--format", "json"))}
    assert rows["overall"] == {"scope": "overall", "covered": 1, "total": 6, "percent": 16.7}
    assert rows["region:centr"]["covered"] == 1 and rows["region:centr"]["total"] == 2
    listed = {
        r["tld"]: r["member"] for r in json.loads(run("coverage", "--tlds", "--format", "json"))
    }
    assert listed[".fr"] is True and listed[".nl"] is False and ".an" not in listed
    assert "overall" in run("coverage")


@pytest.mark.django_db
def test_createadmin_from_stdin():
    out = run(
        "createadmin",
        "--email",
        "Chair@Example.ORG",
        "--name",
        "Chris Chair",
        "--role",
        "committee",
        "--position",
        "chair",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert "Account created for Chair@example.org" in out
    assert "authenticator app (TOTP" in out and "/login/" in out
    person = Person.objects.get()
    assert (person.role, person.committee_position) == ("committee", "chair")
    assert person.user.check_password(PASSWORD)
    again = fails(
        "createadmin",
        "--email",
        "chair@example.org",
        "--name",
        "X",
        "--role",
        "secretariat",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert again.returncode == EXIT_ERROR and "already exists" in str(again)


@pytest.mark.django_db
def test_createadmin_refuses_weak_or_missing_passwords():
    args = ("createadmin", "--email", "s@example.org", "--name", "S", "--role", "secretariat")
    weak = fails(*args, "--password-stdin", stdin="short\n")
    assert weak.returncode == EXIT_ERROR and "too short" in str(weak)
    assert fails(*args, "--password-stdin", stdin="\n").returncode == EXIT_USAGE
    no_tty = fails(*args, stdin="")
    assert no_tty.returncode == EXIT_USAGE and "--password-stdin" in str(no_tty)
    assert not Person.objects.exists()


def test_invite_help_through_the_real_command(tmp_path):
    tldops = Path(sys.executable).with_name("tldops")
    env = {**os.environ, "TLDOPS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [str(tldops), "invite", "--help"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "tldops invite status" in done.stdout
    assert "--dry-run" in done.stdout and "--format {table,json,csv}" in done.stdout
