from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "tldops.mail"
    label = "mail"
    verbose_name = "Mail core"
