from django.apps import AppConfig


class RenderappConfig(AppConfig):
    name = "tests.renderapp"
    default_auto_field = "django.db.models.BigAutoField"
