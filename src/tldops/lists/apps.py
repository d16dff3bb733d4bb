from django.apps import AppConfig


class ListsConfig(AppConfig):
    name = "tldops.lists"
    verbose_name = "Mailing list"

    def ready(self) -> None:
        # The list's addresses join the intake's routing table (posting, -request, -owner, -bounces).
        # lazy: models are not ready when apps.py is imported
        from tldops.lists.distribute import post_from_app
        from tldops.lists.pipeline import register_routes
        from tldops.mail import community

        register_routes()
        # Other apps (alerts) put their posts on the list through the mail core.
        community.register_poster(post_from_app)
