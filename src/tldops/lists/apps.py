from django.apps import AppConfig


class ListsConfig(AppConfig):
    name = "tldops.lists"
    verbose_name = "Mailing list"

    def ready(self) -> None:
        # The list's addresses join the intake's routing table (posting, -request, -owner, -bounces).
        # lazy: models are not ready when apps.py is imported
        from tldops.lists.pipeline import register_routes

        register_routes()
