from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "tldops.directory"
    verbose_name = "Member directory"

    def ready(self) -> None:
        # The authorisation address joins the intake's routing table (admin contacts reply to it),
        # and the audit log every app writes to is kept here.
        # lazy: models are not ready when apps.py is imported
        from tldops.directory import audit
        from tldops.kernel import audit as kernel_audit
        from tldops.mail import intake

        kernel_audit.set_writer(audit.record)

        intake.add_route(
            intake.Route(
                "authorise",
                intake.setting_address("AUTHORISE_ADDRESS"),
                "tldops.directory.mail_door.process",
            )
        )
