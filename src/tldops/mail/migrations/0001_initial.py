"""The mail core's models, moved from the lists app with their tables (``lists_inboundmessage``,
``lists_outboundmessage``, ``lists_delivery``) as they are: this migration only tells Django's
state where the models now live; the database is not touched (``SeparateDatabaseAndState``).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # The tables exist, with every column, from the lists app's migrations.
        ("lists", "0005_sender_auth"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="InboundMessage",
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
                        ("mail_from", models.CharField(max_length=320)),
                        ("rcpt_to", models.JSONField(default=list)),
                        ("raw", models.BinaryField()),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("new", "new"),
                                    ("done", "processed"),
                                    ("rejected", "rejected"),
                                    ("failed", "failed"),
                                ],
                                default="new",
                                max_length=8,
                            ),
                        ),
                        ("route", models.CharField(blank=True, max_length=32)),
                        ("result", models.TextField(blank=True)),
                        ("peer", models.CharField(blank=True, max_length=64)),
                        ("helo", models.CharField(blank=True, max_length=255)),
                        ("auth_results", models.TextField(blank=True)),
                    ],
                    options={
                        "db_table": "lists_inboundmessage",
                        "ordering": ["-received_at"],
                    },
                ),
                migrations.CreateModel(
                    name="OutboundMessage",
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
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("purpose", models.CharField(max_length=32)),
                        ("subject", models.CharField(max_length=300)),
                        ("envelope_from", models.CharField(max_length=320)),
                        ("raw", models.BinaryField()),
                        ("verp", models.BooleanField(default=False)),
                    ],
                    options={
                        "db_table": "lists_outboundmessage",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="Delivery",
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
                        ("recipient", models.CharField(max_length=320)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "pending"),
                                    ("sent", "sent"),
                                    ("failed", "failed permanently"),
                                ],
                                default="pending",
                                max_length=8,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField(db_index=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True)),
                        (
                            "message",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="deliveries",
                                to="mail.outboundmessage",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "lists_delivery",
                        "ordering": ["id"],
                        "indexes": [
                            models.Index(
                                fields=["status", "next_attempt_at"],
                                name="lists_deliv_status_e7d8b6_idx",
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
