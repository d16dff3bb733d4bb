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

Prints one JSON object: the session cookie and API token of one member, and counts.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
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


def seed(members: int) -> dict[str, object]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from tldops.catalog.baseline import load_baseline
    from tldops.catalog.models import Region, Tld
    from tldops.directory import tokens
    from tldops.directory.audit import Actor
    from tldops.directory.models import Membership, Person

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
    _token, api_token = tokens.create_token(member, "bench", actor=Actor.of(member, "cli"))
    client = Client()
    client.force_login(
        get_user_model().objects.get(pk=member.user_id),
        backend="django.contrib.auth.backends.ModelBackend",
    )
    cookie_name = settings.SESSION_COOKIE_NAME
    return {
        "members": active,
        "cctlds": len(tlds),
        "covered_cctlds": len(per_tld),
        "max_contacts_per_cctld": limit,
        "member_email": member.email,
        "session_cookie": f"{cookie_name}={client.cookies[cookie_name].value}",
        "api_token": api_token,
        "database": str(settings.DATABASES["default"].get("NAME", "")),
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000, help="active members to create")
    args = parser.parse_args(argv)
    if args.members < 1:
        parser.error("--members must be at least 1")
    setup_django(args.members)
    # Keep stdout for the one JSON object: anything the services print goes to stderr.
    with contextlib.redirect_stdout(io.StringIO()) as noise:
        result = seed(args.members)
    sys.stderr.write(noise.getvalue())
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
