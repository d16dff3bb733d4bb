"""playbooks 0004: each signed version's own copy of its text becomes one shared SignedText per
distinct text (language and text), and the versions point to it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tldops.catalog.models import Tld
from tldops.playbooks import plans
from tldops.playbooks.models import PlanVersion, SignedText

BEFORE = [("playbooks", "0003_plan_fixes")]
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_signed_books_become_shared_signed_texts():
    fr = Tld.objects.create(alabel="fr", ulabel="fr", kind="ascii", iso_code="FR")
    english = {"book": {"version": 3, "title": "Plan"}, "units": 2, "review": [], "english": []}
    french = {"book": {"version": 3, "title": "Plan FR"}, "units": 2, "review": [], "english": []}
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE).apps
        plan = apps.get_model("playbooks", "Plan").objects.create(
            tld_id=fr.pk, created_at=T0, updated_at=T0, version=4
        )
        old = apps.get_model("playbooks", "PlanVersion")
        for number, language, book in (
            (1, "en", english),
            (2, "en", english),
            (3, "fr", french),
            (4, "en", None),
        ):
            old.objects.create(
                plan_id=plan.pk, number=number, values={}, content_version=2,
                language=language, signed_book=book, created_at=T0,
            )  # fmt: skip
    finally:  # whatever happens, the later tests need the whole schema back
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    assert SignedText.objects.count() == 2
    one, two, three, four = PlanVersion.objects.order_by("number")
    assert one.signed_text_id == two.signed_text_id != three.signed_text_id
    assert four.signed_text is None
    assert one.signed_text.book == english and one.signed_text.language == "en"
    assert three.signed_text.book == french and three.signed_text.content_version == 3
    assert one.signed_text.digest == plans.text_digest("en", english)
