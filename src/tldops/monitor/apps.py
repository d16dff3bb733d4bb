from django.apps import AppConfig


class MonitorConfig(AppConfig):
    name = "tldops.monitor"
    label = "monitor"
    verbose_name = "Name server monitoring"
    default_auto_field = "django.db.models.BigAutoField"
