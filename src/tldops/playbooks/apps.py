from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "tldops.playbooks"
    label = "playbooks"
    verbose_name = "Playbooks"
    default_auto_field = "django.db.models.BigAutoField"
