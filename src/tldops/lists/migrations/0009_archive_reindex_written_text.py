"""Data only: the archive's text of every post read again as its author wrote it, without the list
footer the archive used to index (its words matched every post). See ``archive.reindex``.

One transaction (the migration's): interrupted, it leaves the archive as it was and runs again
whole; rows already right are left alone. The search index follows by itself (the SQLite FTS
triggers of ``0003``, PostgreSQL's expression index). Going back changes nothing: the text
without the footer is right for the older code too.
"""

from django.db import migrations


def reindex(apps, schema_editor):
    from tldops.lists import archive  # lazy: only the text function; the model is the historical one

    archive.reindex(apps.get_model("lists", "ArchivedMessage"))


class Migration(migrations.Migration):
    dependencies = [
        ("lists", "0008_digests"),
    ]

    operations = [
        migrations.RunPython(reindex, migrations.RunPython.noop, elidable=True),
    ]
