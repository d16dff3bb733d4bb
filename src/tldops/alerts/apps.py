from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "tldops.alerts"
    label = "alerts"
    verbose_name = "Security alerts and queries"
    default_auto_field = "django.db.models.BigAutoField"
