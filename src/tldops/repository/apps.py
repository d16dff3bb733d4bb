from django.apps import AppConfig


class RepositoryConfig(AppConfig):
    name = "tldops.repository"
    label = "repository"
    verbose_name = "Contact repository and reachability"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The reachability address joins the intake's routing table (contacts answer checks), and
        # the directory listing shows when each contact last proved reachable.
        # lazy: models are not ready when apps.py is imported
        from tldops.directory import queries
        from tldops.mail import intake
        from tldops.repository.reachability import last_reachable_expression

        queries.annotate_listing("last_reachable", last_reachable_expression)

        intake.add_route(
            intake.Route(
                "reachability",
                intake.setting_address("REACHABILITY_ADDRESS"),
                "tldops.repository.mail_door.process",
            )
        )
