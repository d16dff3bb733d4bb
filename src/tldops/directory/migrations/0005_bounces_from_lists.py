"""Bounce events and scores now belong to the directory (the reachability of a person's address),
moved from the lists app with their tables (``lists_bounceevent``, ``lists_bouncescore``) as they
are: state only, no row touched.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lists", "0006_mail_core_moved"),
        ("directory", "0004_authorisation_proposals"),
        ("mail", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="BounceEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("received_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("address", models.CharField(db_index=True, max_length=320)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("hard", "hard (permanent)"),
                                    ("soft", "soft (temporary)"),
                                    ("policy", "policy or spam rejection"),
                                ],
                                max_length=8,
                            ),
                        ),
                        ("status_code", models.CharField(blank=True, max_length=16)),
                        ("diagnostic", models.TextField(blank=True)),
                        (
                            "delivery",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="bounces",
                                to="mail.delivery",
                            ),
                        ),
                        (
                            "inbound",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="bounces",
                                to="mail.inboundmessage",
                            ),
                        ),
                        (
                            "person",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="bounces",
                                to="directory.person",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "lists_bounceevent",
                        "ordering": ["-received_at"],
                    },
                ),
                migrations.CreateModel(
                    name="BounceScore",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("address", models.CharField(max_length=320, unique=True)),
                        ("score", models.FloatField(default=0.0)),
                        ("updated_at", models.DateTimeField()),
                        ("last_bounce_at", models.DateTimeField(blank=True, null=True)),
                        ("unreachable_since", models.DateTimeField(blank=True, null=True)),
                        ("notified_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "person",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="directory.person",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "lists_bouncescore",
                    },
                ),
            ],
        ),
    ]
