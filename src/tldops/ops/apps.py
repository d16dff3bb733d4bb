from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "tldops.ops"
    verbose_name = "Operations"
