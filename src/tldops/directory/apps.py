from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "tldops.directory"
    verbose_name = "Member directory"
