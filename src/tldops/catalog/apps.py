from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "tldops.catalog"
    verbose_name = "ccTLD catalog"
