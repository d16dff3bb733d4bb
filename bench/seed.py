"""Seed a data directory with the catalog and N active members, made through the real services.

    TLDOPS_DATA_DIR=/tmp/tldops-bench .venv/bin/python bench/seed.py --members 1000

Migrates, loads the offline catalog (309 delegated ccTLDs), tags ccTLDs with the four regions, then
for each ccTLD: invite_cctld -> authorise_contacts (all its contacts at once) -> confirm_contact for
each contact, exactly as the web, API, CLI and mail doors do. Members are spread round-robin over the
ccTLDs, so 1,000 members over 309 ccTLDs is 3 or 4 a ccTLD: more than the default limit of 3, so the
seed raises ``TLDOPS_MAX_CONTACTS_PER_CCTLD`` to what it needs (4) for its own process.

Shortcuts that change nothing the benchmark reads:
- the catalog's baseline has no IANA admin addresses (they come from ``tldops catalog sync``), so
  every ccTLD without one gets ``admin@nic.<a-label>``, which the invitation needs;
- members get no password (``confirm_contact(password=None)``): no password hashing, seconds not
  minutes; the benchmark logs in with a session made for one member instead;
- the queued invitation/confirmation mails are marked sent, so the outbox worker of ``tldops run``
  does not write 2,000 files into the mail sink while the benchmark runs.

With ``--alerts N`` (issue 10) it also raises N alerts, authored by the seeded members, through
``alerts.services.raise_alert`` as every door does: mixed TLP labels (about 5 % RED, each naming
one to four members), categories, severities, one to four affected ccTLDs (.fr in about one in
eight), indicators on about a third. Then, as rows (the pages only read them): the alerts' dates
spread over the past year, a third moved on to "monitoring" or "resolved" with their status
history, and reactions of members to about half of them. With ``--clients K`` it signs in K
different members (a session and an API token each) and lists, for each, alert ids that member
may read (``alerts.access.visible_to``): the load benchmark's clients.

Prints one JSON object: the session cookie and API token of one member (and of ``--clients``
members, with the alerts each may read), and counts.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import random
import sys
import time

CCTLDS = 309
DEFAULT_LIMIT = 3

# Names in several scripts: the directory must render and sort them all.
GIVEN = ["Ana", "Pieter", "Kwame", "Mei", "Olga", "Youssef", "Priya", "Lucas", "Aiko", "Fatou"]
FAMILY = [
    "Lopez",
    "de Vries",
    "Mensah",
    "Tanaka",
    "Okafor",
    "Nguyen",
    "Silva",
    "Haddad",
    "Kowalski",
]
NON_LATIN = [
    "محمد العلي",  # Arabic
    "فاطمة الزهراء",  # Arabic
    "Ольга Смирнова",  # Cyrillic
    "Дмитрий Иванов",  # Cyrillic
    "王伟",  # Chinese
    "李娜",  # Chinese
    "张敏",  # Chinese
]
TIMEZONES = ["Europe/Paris", "Africa/Accra", "Asia/Tokyo", "America/Sao_Paulo", "Asia/Dubai", "UTC"]
LANGUAGES = [["en"], ["fr", "en"], ["ar", "en"], ["ru"], ["zh", "en"], ["es", "pt"]]
FALLBACK_PHONE = "+33 1 23 45 67 89"


def person_name(i: int) -> str:
    """Every fourth member has an Arabic, Cyrillic or Chinese name; the rest Latin ones."""
    if i % 4 == 3:
        return NON_LATIN[(i // 4) % len(NON_LATIN)]
    return f"{GIVEN[i % len(GIVEN)]} {FAMILY[(i // len(GIVEN)) % len(FAMILY)]} {i}"


def example_phones(iso_code: str) -> list[tuple[str, str]]:
    """A valid number of the ccTLD's country (libphonenumber's example), else a French one."""
    import phonenumbers

    fmt = phonenumbers.PhoneNumberFormat.E164
    phones = []
    for kind, label in (
        (phonenumbers.PhoneNumberType.FIXED_LINE, "office"),
        (phonenumbers.PhoneNumberType.MOBILE, "24/7"),
    ):
        number = phonenumbers.example_number_for_type(iso_code or None, kind) if iso_code else None
        if number is not None and phonenumbers.is_valid_number(number):
            phones.append((phonenumbers.format_number(number, fmt), label))
    return phones or [(FALLBACK_PHONE, "office")]


def setup_django(members: int) -> None:
    needed = max(DEFAULT_LIMIT, math.ceil(members / CCTLDS))
    current = int(os.environ.get("TLDOPS_MAX_CONTACTS_PER_CCTLD") or DEFAULT_LIMIT)
    if current < needed:
        os.environ["TLDOPS_MAX_CONTACTS_PER_CCTLD"] = str(needed)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
    import django

    django.setup()


def vet(tlds: list, per_tld: dict[int, list[int]]) -> None:
    """Invite, authorise and confirm member i in ccTLD ``tlds[index]`` for every
    ``index: [i, …]`` of ``per_tld``, through the real vetting flow, in one transaction (SQLite
    fsyncs once); the invitation and confirmation mails are marked sent, not delivered."""
    from django.db import transaction
    from django.utils import timezone

    from tldops.directory import actions, links
    from tldops.directory.audit import Actor
    from tldops.directory.validation import ContactInput
    from tldops.mail.models import Delivery

    system = Actor.system()
    with transaction.atomic():
        for t_index, people in sorted(per_tld.items()):
            tld = tlds[t_index]
            phones = example_phones(tld.iso_code)
            contacts = [
                ContactInput(
                    name=person_name(i),
                    email=f"contact{i}@nic.{tld.alabel}",
                    phones=phones,
                    timezone=TIMEZONES[i % len(TIMEZONES)],
                    languages=LANGUAGES[i % len(LANGUAGES)],
                )
                for i in people
            ]
            invitation = actions.invite_cctld(tld, actor=system, batch="bench")
            added = actions.authorise_contacts(
                links.invitation_token(invitation), contacts, door="web"
            ).added
            for membership in added:
                actions.confirm_contact(
                    links.confirmation_token(membership), door="web", password=None
                )
        Delivery.objects.filter(status=Delivery.Status.PENDING).update(
            status=Delivery.Status.SENT, sent_at=timezone.now()
        )


#: TLP labels of the seeded alerts and their shares: RED about 5 %.
TLP_MIX = [("CLEAR", 15), ("GREEN", 30), ("AMBER", 35), ("AMBER+STRICT", 15), ("RED", 5)]
CATEGORIES = ["ddos", "phishing", "malware", "hijack", "vulnerability", "outage", "other"]
SEVERITIES = ["low", "medium", "high", "critical"]
REACTION_KINDS = ["seen", "not-seen", "false-positive", "mitigated"]
#: Alert ids listed per client for the detail pages: this many the community reads, plus up to
#: RED_PER_CLIENT RED ones that named the client.
IDS_PER_CLIENT = 8
RED_PER_CLIENT = 2


def seed_alerts(count: int, rng: random.Random) -> dict[str, int]:
    """``count`` alerts by the active members, through the real ``raise_alert``; their dates,
    statuses and reactions as rows afterwards (see the module's docstring)."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from tldops.alerts import services
    from tldops.alerts.models import Alert, Reaction, StatusChange
    from tldops.catalog.models import Tld
    from tldops.directory.audit import Actor
    from tldops.directory.models import Membership

    memberships = list(
        Membership.objects.filter(status=Membership.Status.ACTIVE)
        .select_related("person", "tld")
        .order_by("person_id")
    )
    people = [m.person for m in memberships]
    tld_of = {m.person_id: m.tld_id for m in memberships}
    alabels = list(Tld.objects.delegated().order_by("alabel").values_list("alabel", flat=True))
    labels = [label for label, share in TLP_MIX for _ in range(share)]
    started = time.monotonic()
    with transaction.atomic():
        for i in range(count):
            author = people[rng.randrange(len(people))]
            tlp = labels[rng.randrange(len(labels))]
            affected = rng.sample(alabels, rng.randint(1, 4))
            if i % 8 == 0 and "fr" not in affected:
                affected[0] = "fr"
            recipients = []
            if tlp == "RED":
                named = rng.sample(people, rng.randint(1, 4))
                recipients = [p.email for p in named if p.pk != author.pk] or [
                    people[(people.index(author) + 1) % len(people)].email
                ]
            found = []
            if rng.random() < 0.33:
                found = [f"bad{i}-{k}.{affected[0]}" for k in range(rng.randint(1, 5))]
                found.append(f"198.51.100.{i % 250 + 1}")
            services.raise_alert(
                author,
                services.AlertInput(
                    title=f"Alert {i}: {CATEGORIES[i % len(CATEGORIES)]} seen under .{affected[0]}",
                    category=CATEGORIES[rng.randrange(len(CATEGORIES))],
                    tlp=tlp,
                    severity=SEVERITIES[rng.randrange(len(SEVERITIES))],
                    body=f"Seen since yesterday under **.{affected[0]}**.\n\n- one\n- two\n",
                    affected=affected,
                    public=tlp == "CLEAR" and rng.random() < 0.5,
                    recipients=recipients,
                    indicators=found,
                ),
                actor=Actor.of(author, "web"),
                # The pages are measured here, not the mail: published, each alert would queue
                # a list copy for every member (10,000 alerts × 1,000 members = 10 M deliveries).
                # The list's delivery has its own benchmark (bench/list_delivery.py).
                publish=False,
            )
        raised = time.monotonic() - started
        # The per-ccTLD slices of their domain names are the worker's job, not the pages': left
        # queued, the server's worker would split and mail them during the load (3,300 jobs),
        # and the pages' tail latency would measure that. As if sent long ago.
        from tldops.alerts.models import SliceJob

        SliceJob.objects.update(pending=False)

        # Dates over the past year (the newest first in the list), statuses, status history.
        now = timezone.now()
        alerts = list(Alert.objects.order_by("pk"))
        history, reactions = [], []
        for n, alert in enumerate(alerts):
            alert.created_at = now - dt.timedelta(minutes=(len(alerts) - n) * 50)
            roll = rng.random()
            if roll < 0.34:
                alert.status = "monitoring" if roll < 0.17 else "resolved"
                alert.status_changed_at = alert.created_at + dt.timedelta(hours=6)
                history.append(
                    StatusChange(
                        alert=alert, before="open", after=alert.status, by_id=alert.author_id
                    )
                )
            if alert.tlp != "RED" and rng.random() < 0.5:
                for person in rng.sample(people, rng.randint(1, 6)):
                    kind = REACTION_KINDS[rng.randrange(len(REACTION_KINDS))]
                    reactions.append(
                        Reaction(
                            alert=alert,
                            person=person,
                            tld_id=tld_of[person.pk],
                            kind=kind,
                            count=rng.randint(1, 500) if kind == "seen" else None,
                        )
                    )
        Alert.objects.bulk_update(
            alerts, ["created_at", "status", "status_changed_at"], batch_size=500
        )
        StatusChange.objects.bulk_create(history, batch_size=1000)
        Reaction.objects.bulk_create(reactions, batch_size=1000, ignore_conflicts=True)
    return {
        "alerts": len(alerts),
        "red_alerts": sum(a.tlp == "RED" for a in alerts),
        "reactions": Reaction.objects.count(),
        "raise_seconds": round(raised, 1),
    }


def sign_in(person: object) -> tuple[str, str]:
    """A session cookie (``name=value``) and an API token of ``person``."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tldops.directory import tokens
    from tldops.directory.audit import Actor

    _token, api_token = tokens.create_token(
        person, "bench", actor=Actor.of(person, "cli"), second_factor_proved=False
    )
    client = Client()
    client.force_login(
        get_user_model().objects.get(pk=person.user_id),
        backend="django.contrib.auth.backends.ModelBackend",
    )
    cookie_name = settings.SESSION_COOKIE_NAME
    return f"{cookie_name}={client.cookies[cookie_name].value}", api_token


def clients(count: int, rng: random.Random) -> list[dict[str, object]]:
    """``count`` different active members, spread over the directory, each signed in, with the
    ids of alerts each may read: community alerts and the RED ones that named them."""
    from tldops.alerts import access
    from tldops.directory.models import Person

    people = list(Person.objects.filter(memberships__status="active").order_by("pk"))
    chosen = [people[i * len(people) // count] for i in range(min(count, len(people)))]
    out = []
    for person in chosen:
        readable = access.visible_to(person)
        community = list(readable.exclude(tlp="RED").values_list("pk", flat=True))
        red = list(readable.filter(tlp="RED").values_list("pk", flat=True))
        ids = rng.sample(community, min(IDS_PER_CLIENT, len(community)))
        ids += rng.sample(red, min(RED_PER_CLIENT, len(red)))
        cookie, token = sign_in(person)
        out.append(
            {
                "email": person.email,
                "session_cookie": cookie,
                "api_token": token,
                "alert_ids": ids,
                "red_readable": len(red),
                # For counting queries in two data sets: an alert of the same make in both (a
                # page's queries depend on what the alert has: slices, named readers).
                "plain_alert": readable.exclude(tlp="RED")
                .filter(indicators__isnull=True)
                .order_by("-created_at", "-id")
                .values_list("pk", flat=True)
                .first(),
            }
        )
    return out


def seed(members: int, alerts: int = 0, client_count: int = 0) -> dict[str, object]:
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from tldops.catalog.baseline import load_baseline
    from tldops.catalog.models import Region, Tld
    from tldops.directory.models import Membership, Person
    from tldops.mail.models import Delivery

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    load_baseline()
    if Membership.objects.exists():
        raise SystemExit("bench/seed.py: this data directory already has members; use a fresh one")

    tlds = list(Tld.objects.delegated().order_by("alabel"))
    if not tlds:
        raise SystemExit("bench/seed.py: the catalog is empty after load_baseline()")
    limit = settings.MAX_CONTACTS_PER_CCTLD
    if members > limit * len(tlds):
        raise SystemExit(
            f"bench/seed.py: {members} members do not fit in {len(tlds)} ccTLDs at {limit} each; "
            "raise TLDOPS_MAX_CONTACTS_PER_CCTLD"
        )
    for tld in tlds:
        if not tld.admin_email:
            tld.admin_email = f"admin@nic.{tld.alabel}"
    Tld.objects.bulk_update(tlds, ["admin_email"])

    # Regions, round-robin, so the coverage page has its per-region shares to compute.
    regions = list(Region.objects.order_by("code"))
    if regions:
        through = Tld.regions.through
        through.objects.all().delete()
        through.objects.bulk_create(
            [
                through(tld_id=t.pk, region_id=regions[i % len(regions)].pk)
                for i, t in enumerate(tlds)
            ]
        )

    # Member i goes to ccTLD i mod 309: every ccTLD gets 3, the first 73 a fourth.
    per_tld: dict[int, list[int]] = {}
    for i in range(members):
        per_tld.setdefault(i % len(tlds), []).append(i)

    vet(tlds, per_tld)

    active = Membership.objects.filter(status=Membership.Status.ACTIVE).count()
    member = Person.objects.filter(memberships__status="active").order_by("pk").first()
    session_cookie, api_token = sign_in(member)
    rng = random.Random(10)  # the same data set every run
    alert_counts = seed_alerts(alerts, rng) if alerts else {}
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SENT, sent_at=timezone.now()
    )  # mail the alerts queued, if any: marked sent, like the vetting mails
    return {
        "members": active,
        "cctlds": len(tlds),
        "covered_cctlds": len(per_tld),
        "max_contacts_per_cctld": limit,
        "member_email": member.email,
        "session_cookie": session_cookie,
        "api_token": api_token,
        **alert_counts,
        "clients": clients(client_count, rng) if client_count else [],
        "database": str(settings.DATABASES["default"].get("NAME", "")),
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000, help="active members to create")
    parser.add_argument("--alerts", type=int, default=0, help="alerts to raise (issue 10)")
    parser.add_argument(
        "--clients", type=int, default=0, help="members to sign in, with alerts each may read"
    )
    args = parser.parse_args(argv)
    if args.members < 1:
        parser.error("--members must be at least 1")
    setup_django(args.members)
    # Keep stdout for the one JSON object: anything the services print goes to stderr.
    with contextlib.redirect_stdout(io.StringIO()) as noise:
        result = seed(args.members, args.alerts, args.clients)
    sys.stderr.write(noise.getvalue())
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
