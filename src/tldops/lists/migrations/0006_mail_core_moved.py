"""The list's foreign keys now point at the mail core's models, and the lists app no longer holds
them: state only, the tables and their rows stay as they are (see ``mail.0001_initial``).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lists", "0005_sender_auth"),
        ("mail", "0001_initial"),
        ("repository", "0002_edition_message_in_mail_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="bounceevent",
                    name="delivery",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="bounces",
                        to="mail.delivery",
                    ),
                ),
                migrations.AlterField(
                    model_name="post",
                    name="inbound",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="post",
                        to="mail.inboundmessage",
                    ),
                ),
                migrations.AlterField(
                    model_name="bounceevent",
                    name="inbound",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="bounces",
                        to="mail.inboundmessage",
                    ),
                ),
                migrations.AlterField(
                    model_name="post",
                    name="outbound",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="posts",
                        to="mail.outboundmessage",
                    ),
                ),
                migrations.DeleteModel(
                    name="Delivery",
                ),
                migrations.DeleteModel(
                    name="InboundMessage",
                ),
                migrations.DeleteModel(
                    name="OutboundMessage",
                ),
            ],
        ),
    ]
