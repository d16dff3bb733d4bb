"""``tldops playbooks``: the playbooks' translation catalogs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tldops.cli import DescriptionHelpFormatter, emit, fail, subcommand
from tldops.playbooks import catalogs, content

DESCRIPTION = """\
The DDoS and DR/BCP playbooks: their text is in English in src/tldops/playbooks/content/*.yaml,
their translations are gettext catalogs beside it (content/locale/<language>/<playbook>.po).

  tldops playbooks status              per playbook and language: units, translated, to review
  tldops playbooks catalogs            bring every catalog up to the English (after editing it)
  tldops playbooks catalogs --check    exit 1 if a catalog is out of date (for CI)
  tldops playbooks catalogs --language ar
                                       only the Arabic catalogs (creates them if missing)

A unit whose English changed keeps its old translation marked fuzzy, with the old English beside
it: it is shown in English until a translator reviews it and removes the fuzzy mark.
"""


class Command(BaseCommand):
    help = "The playbooks' translation catalogs: status, update, check."

    def create_parser(self, prog_name: str, subcommand_name: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand_name, **kwargs)
        parser.formatter_class = DescriptionHelpFormatter
        parser.description = DESCRIPTION
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="status|catalogs")
        sub.required = True
        status = subcommand(sub, "status", "Per playbook and language: translated and to review.")
        status.add_argument("--format", choices=["table", "json", "csv"], default="table")
        cat = subcommand(sub, "catalogs", "Bring the translation catalogs up to the English.")
        cat.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; exit 1 if a catalog is out of date.",
        )
        cat.add_argument(
            "--language",
            choices=[code for code in catalogs.LANGUAGES if code != "en"],
            help="Only this language (default: every language that has catalogs).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "status":
            rows = []
            for playbook in content.PLAYBOOKS:
                for language in catalogs.translated_languages():
                    doc = catalogs.localize(playbook, language)
                    rows.append(
                        {
                            "playbook": playbook,
                            "language": language,
                            "units": doc.units,
                            "translated": doc.units - len(doc.review),
                            "to_review": len(doc.review),
                        }
                    )
            emit(
                rows,
                ["playbook", "language", "units", "translated", "to_review"],
                options["format"],
            )
            return
        languages = (
            [options["language"]]
            if options["language"]
            else [code for code in catalogs.translated_languages() if code != "en"]
        )
        out_of_date = []
        for language in languages:
            for playbook in catalogs.SOURCES:
                path = catalogs.catalog_path(playbook, language)
                if options["check"]:
                    if catalogs.stale(playbook, language):
                        out_of_date.append(str(path))
                elif catalogs.update(playbook, language):
                    self.stdout.write(f"updated {path}")
        if out_of_date:
            raise fail(
                "Out of date with the English (run: tldops playbooks catalogs): "
                + ", ".join(out_of_date)
            )
