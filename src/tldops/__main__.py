"""The ``tldops`` command: Django's management commands with tldops' settings preset.

Every subcommand (``tldops catalog``, ``tldops invite``, ``tldops run`` …) is a management command
of the app it belongs to, so the CLI is one more thin door onto the apps' services.

``tldops --help`` (and ``tldops help``) lists tldops' own commands by app, each with its first
line of help, and the few of Django's an operator needs (:data:`OPERATOR_COMMANDS`). Django's
other commands (``flush``, ``createsuperuser``, ``shell``, ``loaddata`` …) change the database
round tldops' rules and audit log, or are for developers: they are listed only by ``tldops help
--all``, under their own heading. They still run when called by name.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict

#: Django's (and its libraries') commands an operator needs, shown with tldops' own.
OPERATOR_COMMANDS = {
    "migrate": "Bring the database up to date (once per upgrade, before starting tldops).",
    "check": "Check the configuration for mistakes.",
    "showmigrations": "Show which database migrations have been applied.",
    "clearsessions": "Delete expired portal sessions from the database.",
    "axes_reset": "Unlock every address and account locked out after failed sign-ins.",
}

#: The flag of ``tldops help`` that also lists the developer commands.
ALL_FLAG = "--all"


#: Characters of a command's help shown on its line; a longer first sentence is cut with "…".
LINE = 90


def _first_line(text: str) -> str:
    """A command's help on one line: its first sentence, cut at a word if longer than LINE."""
    text = " ".join((text or "").split())
    end = text.find(". ")
    text = text if end < 0 else text[: end + 1]
    if len(text) > LINE:
        text = text[: LINE - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return text


def help_text(*, show_all: bool = False) -> str:
    """The text of ``tldops --help``: tldops' commands by app, then the operator's few of
    Django's, then (with ``show_all``) every other command under "Developer commands"."""
    from django.core.management import get_commands, load_command_class  # lazy: after setup

    own: dict[str, list[tuple[str, str]]] = defaultdict(list)
    developer: dict[str, list[str]] = defaultdict(list)
    operator: list[tuple[str, str]] = []
    for name, app in sorted(get_commands().items()):
        if app.startswith("tldops."):
            command = load_command_class(app, name)
            own[app.removeprefix("tldops.")].append((name, _first_line(command.help)))
        elif name in OPERATOR_COMMANDS:
            operator.append((name, OPERATOR_COMMANDS[name]))
        else:
            developer[app.rpartition(".")[2]].append(name)
    width = max(len(n) for n in [*OPERATOR_COMMANDS, *(n for c in own.values() for n, _ in c)])
    lines = [
        "Usage: tldops <command> [options]",
        "Type 'tldops help <command>' (or 'tldops <command> --help') for a command's options.",
        "",
        "tldops commands:",
    ]
    for app in sorted(own):
        lines.append(f"  [{app}]")
        lines.extend(f"    {name:<{width}}  {summary}" for name, summary in own[app])
    lines += ["", "Maintenance (Django's):"]
    lines.extend(f"    {name:<{width}}  {summary}" for name, summary in operator)
    lines.append("")
    if not show_all:
        lines.append(
            f"Django's developer commands (flush, shell, createsuperuser …) are not listed: "
            f"'tldops help {ALL_FLAG}' shows them."
        )
        return "\n".join(lines)
    lines += [
        "Developer commands (Django's and its libraries'): they bypass tldops' rules and its",
        "audit log. Not for running a community: an account made with createsuperuser, for",
        "one, reaches no staff page or API (staff accounts come from 'tldops createadmin').",
    ]
    for app in sorted(developer):
        lines.append(f"  [{app}]")
        lines.extend(f"    {name}" for name in developer[app])
    return "\n".join(lines)


def _utility(argv: list[str]):  # type: ignore[no-untyped-def]
    from django.core.management import ManagementUtility  # lazy: the settings are chosen first

    class Utility(ManagementUtility):
        def main_help_text(self, commands_only: bool = False) -> str:
            if commands_only:  # ``tldops help --commands``: every name, for shell completion
                return super().main_help_text(commands_only=True)
            return help_text(show_all=ALL_FLAG in self.argv[2:])

    return Utility(argv)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
    _utility(["tldops", *(sys.argv[1:] if argv is None else argv)]).execute()


if __name__ == "__main__":
    main()
