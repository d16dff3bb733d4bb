"""The lists app no longer holds bounce events and scores (see ``directory.0005``): state only."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0005_bounces_from_lists"),
        ("lists", "0006_mail_core_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name="bouncescore",
                    name="person",
                ),
                migrations.DeleteModel(
                    name="BounceEvent",
                ),
                migrations.DeleteModel(
                    name="BounceScore",
                ),
            ],
        ),
    ]
