from django.apps import AppConfig


class ListsConfig(AppConfig):
    name = "tldops.lists"
    verbose_name = "Mailing list and mail"
