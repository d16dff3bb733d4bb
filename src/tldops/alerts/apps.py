from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "tldops.alerts"
    label = "alerts"
    verbose_name = "Security alerts and queries"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The list's posts that are alerts, or replies to one, and `help alert` to -request:
        # through the mail core, so that the list and the alerts never import each other.
        # lazy: models are not ready when apps.py is imported
        from tldops.alerts import mail_door
        from tldops.mail import community

        community.add_watcher("alerts", mail_door.screen, mail_door.take)
        community.add_help_topic("alert", "alerts/email/help_alert.txt")
