from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "tldops.directory"
    verbose_name = "Member directory"

    def ready(self) -> None:
        # The authorisation address joins the intake's routing table (admin contacts reply to it).
        from tldops.mail import intake  # lazy: models are not ready when apps.py is imported

        intake.add_route(
            intake.Route(
                "authorise",
                intake.setting_address("AUTHORISE_ADDRESS"),
                "tldops.directory.mail_door.process",
            )
        )
