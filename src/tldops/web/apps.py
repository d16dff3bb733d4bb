from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "tldops.web"
    verbose_name = "Web portal"
