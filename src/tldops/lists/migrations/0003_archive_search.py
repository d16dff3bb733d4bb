"""Full-text search over the archive, in the database's own engine.

- SQLite: an FTS5 table (external content: lists_archivedmessage) kept in step by triggers, with
  the Porter stemmer and accent folding.
- PostgreSQL: a GIN index over ``to_tsvector('english', subject || author || body)`` — the very
  expression :data:`tldops.lists.archive.PG_VECTOR_SQL` queries.

Other databases get nothing; :func:`tldops.lists.archive.search` then falls back to substring
matching.
"""

from django.db import migrations

FTS = "lists_archive_fts"
COLUMNS = "subject, author_name, body_text"

SQLITE_FORWARD = [
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(
        {COLUMNS}, content='lists_archivedmessage', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS}_ai AFTER INSERT ON lists_archivedmessage BEGIN
        INSERT INTO {FTS}(rowid, {COLUMNS})
        VALUES (new.id, new.subject, new.author_name, new.body_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS}_ad AFTER DELETE ON lists_archivedmessage BEGIN
        INSERT INTO {FTS}({FTS}, rowid, {COLUMNS})
        VALUES ('delete', old.id, old.subject, old.author_name, old.body_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS}_au
        AFTER UPDATE OF {COLUMNS} ON lists_archivedmessage BEGIN
        INSERT INTO {FTS}({FTS}, rowid, {COLUMNS})
        VALUES ('delete', old.id, old.subject, old.author_name, old.body_text);
        INSERT INTO {FTS}(rowid, {COLUMNS})
        VALUES (new.id, new.subject, new.author_name, new.body_text);
    END""",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {FTS}_ai",
    f"DROP TRIGGER IF EXISTS {FTS}_ad",
    f"DROP TRIGGER IF EXISTS {FTS}_au",
    f"DROP TABLE IF EXISTS {FTS}",
]
# Keep in step with tldops.lists.archive.PG_VECTOR_SQL (the planner uses the index only then).
PG_FORWARD = [
    """CREATE INDEX IF NOT EXISTS lists_archive_fts_gin ON lists_archivedmessage USING GIN (
        to_tsvector('english'::regconfig, coalesce(subject, '') || ' ' ||
        coalesce(author_name, '') || ' ' || coalesce(body_text, '')))""",
]
PG_BACKWARD = ["DROP INDEX IF EXISTS lists_archive_fts_gin"]


def _run(statements):
    def run(apps, schema_editor):
        by_vendor = statements.get(schema_editor.connection.vendor, [])
        for sql in by_vendor:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("lists", "0002_mailing_list"),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}),
        ),
    ]
