from django.apps import AppConfig


class RelappConfig(AppConfig):
    name = "tests.relapp"
    label = "relapp"
    default_auto_field = "django.db.models.AutoField"
