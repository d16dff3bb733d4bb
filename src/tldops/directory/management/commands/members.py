"""``tldops members``: list, show, add, remove contacts; change someone's role; reset someone's
second factor; show or set how someone receives mail (``delivery``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from tldops.cli import EXIT_NOT_FOUND, EXIT_USAGE, add_format_argument, fail
from tldops.directory import actions, delivery, queries, second_factor
from tldops.directory.management.common import (
    cli_actor,
    error,
    no_rows,
    phone_arg,
    tld_arg,
    write_rows,
)
from tldops.directory.models import (
    CommitteePosition,
    DeliveryMode,
    DigestFormat,
    Membership,
    Person,
    Role,
)
from tldops.directory.validation import ContactInput, format_phone
from tldops.kernel.errors import DirectoryError


def _phones(person: Person) -> list[str]:
    return [f"{format_phone(p.number)} ({p.label})" for p in person.phones.all()]


def _find_person(email: str) -> Person:
    person = Person.objects.filter(email__iexact=email.strip()).prefetch_related("phones").first()
    if person is None:
        raise fail(
            _("Nobody with the address %(e)s is known.") % {"e": email.strip()}, EXIT_NOT_FOUND
        )
    return person


class Command(BaseCommand):
    help = (
        "The member directory: list and show contacts, record a contact the admin contact "
        "authorised outside the system, remove a contact, change someone's role, reset the "
        "second factor of someone who lost their authenticator app."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

        p = sub.add_parser("list", help="List the active contacts.")
        p.add_argument("--tld", help="Only the contacts of this ccTLD (fr, .FR, рф, xn--p1ai).")
        p.add_argument("--search", default="", help="Name, email, ccTLD or country containing S.")
        add_format_argument(p)

        p = sub.add_parser("show", help="Show one person: details, phones and memberships.")
        p.add_argument("email", help="The person's email address.")
        add_format_argument(p)

        p = sub.add_parser(
            "add",
            help="Record a contact authorised by the admin contact outside the system (e.g. on "
            "paper). The person still confirms their address.",
        )
        p.add_argument("tld", help="The ccTLD.")
        p.add_argument("--name", required=True, help="Full name.")
        p.add_argument("--email", required=True, help="Email address.")
        p.add_argument(
            "--phone",
            action="append",
            default=[],
            metavar="NUMBER[:LABEL]",
            help="A phone number in international form with its label (office, mobile, 24/7, "
            'other), e.g. "+33 1 23 45 67 89:office"; repeat for several.',
        )
        p.add_argument("--tz", default="", help="Time zone, e.g. Europe/Paris.")
        p.add_argument("--lang", default="", help="Languages, e.g. en,fr.")

        p = sub.add_parser("remove", help="Remove a contact (e.g. on the admin contact's request).")
        p.add_argument("tld", help="The ccTLD.")
        p.add_argument("number", type=int, help="The contact number within the ccTLD (1, 2, 3…).")
        p.add_argument(
            "--reason", required=True, help="Why, as the contact and colleagues read it."
        )

        p = sub.add_parser("set-role", help="Change someone's role.")
        p.add_argument("email", help="The person's email address.")
        p.add_argument("role", choices=Role.values, help="member, secretariat or committee.")
        p.add_argument(
            "--position",
            default="",
            choices=[c for c in CommitteePosition.values if c],
            help="Committee position (with the committee role).",
        )

        p = sub.add_parser(
            "reset-2fa",
            help="Reset the second factor of someone who lost their authenticator app: their "
            "devices are deleted, their sessions ended, they are told by mail and set up a new "
            "one at their next sign-in.",
        )
        p.add_argument("email", help="The person's email address.")
        p.add_argument(
            "--reason", required=True, help="Why, as the person reads it and the audit log keeps."
        )

        p = sub.add_parser(
            "delivery",
            help="Show how someone receives mail, or set it for them (audited): each post, a "
            "daily digest, or no list mail until a date; staff also the list and the editions.",
        )
        p.add_argument("email", help="The person's email address.")
        p.add_argument("--mode", choices=DeliveryMode.values, help="regular, digest or nomail.")
        p.add_argument("--digest-format", choices=DigestFormat.values, help="mime or plain.")
        p.add_argument("--until", help="With --mode nomail: the last day without list mail.")
        p.add_argument(
            "--receive-list", choices=("yes", "no"), help="Staff: receive the list's posts."
        )
        p.add_argument(
            "--receive-editions", choices=("yes", "no"), help="Staff: receive the editions."
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            getattr(self, "do_" + str(options["action"]).replace("-", "_"))(options)
        except DirectoryError as exc:
            raise error(exc) from None

    def do_list(self, options: dict) -> None:
        tld = tld_arg(options["tld"]) if options["tld"] else None
        rows = [
            {
                "tld": m.tld.display,
                "number": m.number,
                "name": m.person.name,
                "email": m.person.email,
                "phones": _phones(m.person),
                "timezone": m.person.timezone,
                "languages": m.person.languages,
            }
            for m in queries.directory_memberships(tld=tld, search=options["search"])
        ]
        columns = ["tld", "number", "name", "email", "phones", "timezone", "languages"]
        if not rows and no_rows(self, options["format"], _("No contact matches.")):
            return
        write_rows(self, rows, columns, options["format"], title=_("Contacts"))

    def do_show(self, options: dict) -> None:
        person = _find_person(options["email"])
        memberships = person.memberships.select_related("tld").order_by("tld__alabel")
        rows = [
            {
                "name": person.name,
                "email": person.email,
                "role": person.role
                + (f" ({person.committee_position})" if person.committee_position else ""),
                "phones": _phones(person),
                "timezone": person.timezone,
                "languages": person.languages,
                "tld": m.tld.display,
                "number": m.number,
                "status": m.status,
                "authorised_by": m.authorised_by,
                "rule": m.authorisation_rule,
                "via": m.authorised_via,
            }
            for m in memberships
        ] or [
            {
                "name": person.name,
                "email": person.email,
                "role": person.role,
                "phones": _phones(person),
                "timezone": person.timezone,
                "languages": person.languages,
            }
        ]
        columns = [
            "name",
            "email",
            "role",
            "phones",
            "timezone",
            "languages",
            "tld",
            "number",
            "status",
            "authorised_by",
            "rule",
            "via",
        ]
        write_rows(self, rows, columns, options["format"], title=person.name)

    def do_add(self, options: dict) -> None:
        tld = tld_arg(options["tld"])
        contact = ContactInput(
            name=options["name"],
            email=options["email"],
            phones=[phone_arg(p) for p in options["phone"]],
            timezone=options["tz"],
            languages=options["lang"],
        )
        m = actions.add_contact_by_secretariat(tld, contact, actor=cli_actor())
        self.stdout.write(
            _(
                "%(name)s is contact %(n)d of %(tld)s, awaiting confirmation: a confirmation "
                "link was mailed to %(email)s."
            )
            % {"name": m.person.name, "n": m.number, "tld": tld.display, "email": m.person.email}
        )

    def do_remove(self, options: dict) -> None:
        tld = tld_arg(options["tld"], delegated_only=False)
        membership = (
            Membership.objects.select_related("person", "tld")
            .filter(tld=tld, number=options["number"], status__in=Membership.OPEN)
            .first()
        )
        if membership is None:
            raise fail(
                _("%(tld)s has no contact number %(n)d.")
                % {"tld": tld.display, "n": options["number"]},
                EXIT_NOT_FOUND,
            )
        reason = options["reason"].strip()
        if not reason:
            raise fail(_("Give the reason with --reason."), EXIT_USAGE)
        actions.remove_contact(membership, actor=cli_actor(), reason=reason)
        self.stdout.write(
            _("%(name)s is no longer a contact of %(tld)s; they and their colleagues were told.")
            % {"name": membership.person.name, "tld": tld.display}
        )

    def do_set_role(self, options: dict) -> None:
        person = _find_person(options["email"])
        if options["position"] and options["role"] != Role.COMMITTEE:
            raise fail(_("--position goes with the committee role only."), EXIT_USAGE)
        actions.set_role(
            person, role=options["role"], position=options["position"], actor=cli_actor()
        )
        self.stdout.write(
            _("%(email)s is now %(role)s.") % {"email": person.email, "role": options["role"]}
        )

    def do_reset_2fa(self, options: dict) -> None:
        person = _find_person(options["email"])
        removed = second_factor.reset(person, actor=cli_actor(), reason=options["reason"])
        self.stdout.write(
            _(
                "The second factor of %(email)s is reset (%(n)d device(s) removed, every session "
                "ended); they were told by mail and set up a new one at their next sign-in."
            )
            % {"email": person.email, "n": removed}
        )

    def do_delivery(self, options: dict) -> None:
        person = _find_person(options["email"])

        def yes_no(value: str | None) -> bool | None:
            return None if value is None else value == "yes"

        change = delivery.DeliveryChange(
            mode=options["mode"],
            digest_format=options["digest_format"],
            nomail_until=options["until"],
            receive_list=yes_no(options["receive_list"]),
            receive_editions=yes_no(options["receive_editions"]),
        )
        if any(v is not None for v in vars(change).values()):
            person = delivery.update_delivery(person, change, actor=cli_actor())
        self.stdout.write(
            _("%(name)s <%(email)s> receives: %(how)s.")
            % {"name": person.name, "email": person.email, "how": delivery.describe(person)}
        )
        if person.role in delivery.STAFF_ROLES:
            self.stdout.write(
                _("List posts: %(l)s; repository editions: %(e)s.")
                % {
                    "l": _("yes") if person.receive_list else _("no"),
                    "e": _("yes") if person.receive_editions else _("no"),
                }
            )
