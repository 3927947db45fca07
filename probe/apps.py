from django.apps import AppConfig


class ProbeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "probe"
    verbose_name = "tuOtempO conformance probe"
