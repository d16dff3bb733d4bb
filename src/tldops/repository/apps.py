from django.apps import AppConfig


class RepositoryConfig(AppConfig):
    name = "tldops.repository"
    label = "repository"
    verbose_name = "Contact repository and reachability"
    default_auto_field = "django.db.models.BigAutoField"
