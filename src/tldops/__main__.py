"""The ``tldops`` command: Django's management commands with tldops' settings preset.

Every subcommand (``tldops catalog``, ``tldops invite``, ``tldops run`` …) is a management command
of the app it belongs to, so the CLI is one more thin door onto the apps' services.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tldops", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
