"""``tldops createadmin``: create a secretariat or standing-committee account."""

from __future__ import annotations

import getpass
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from tldops.cli import EXIT_USAGE, fail
from tldops.directory import actions
from tldops.directory.management.common import cli_actor, error
from tldops.directory.models import CommitteePosition, Role
from tldops.kernel.errors import DirectoryError


class Command(BaseCommand):
    help = (
        "Create a secretariat or standing-committee account. The password is asked twice (or read "
        "from standard input with --password-stdin); at first login the account sets up a TOTP "
        "authenticator app, required for these roles."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="Login and contact address.")
        parser.add_argument("--name", required=True, help="Full name.")
        parser.add_argument(
            "--role",
            required=True,
            choices=[Role.SECRETARIAT.value, Role.COMMITTEE.value],
            help="secretariat or committee.",
        )
        parser.add_argument(
            "--position",
            default="",
            choices=[c for c in CommitteePosition.values if c],
            help="Committee position: chair, vice-chair, member or liaison.",
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input (for scripts).",
        )

    def handle(self, *args: object, **options: object) -> None:
        password = self._password(options)
        try:
            person = actions.create_staff(
                name=options["name"],
                email=options["email"],
                role=options["role"],
                password=password,
                position=options["position"],
                actor=cli_actor(),
            )
        except DirectoryError as exc:
            raise error(exc) from None
        try:
            login = settings.BASE_URL + reverse("web:login")
        except NoReverseMatch:
            login = settings.BASE_URL + "/"
        self.stdout.write(
            self.style.SUCCESS(
                _("Account created for %(email)s (%(role)s).")
                % {"email": person.email, "role": person.get_role_display()}
            )
        )
        self.stdout.write(
            _("Log in at %(url)s with this address and the password.") % {"url": login}
        )
        self.stdout.write(
            _(
                "At the first login you will set up an authenticator app (TOTP, e.g. FreeOTP or "
                "Aegis): scan the QR code shown, then enter its 6-digit code each time you log in."
            )
        )

    def _password(self, options: dict) -> str:
        stdin = options.get("stdin") or sys.stdin
        if options["password_stdin"]:
            password = stdin.readline().rstrip("\r\n")
            if not password:
                raise fail(_("No password on standard input."), EXIT_USAGE)
            return password
        if not stdin.isatty():
            raise fail(_("No terminal to ask the password on; use --password-stdin."), EXIT_USAGE)
        first = getpass.getpass(_("Password: "))
        second = getpass.getpass(_("Password (again): "))
        if first != second:
            raise fail(_("The two passwords differ; nothing was created."))
        return first
