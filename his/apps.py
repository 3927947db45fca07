from django.apps import AppConfig


class HisConfig(AppConfig):
    name = "his"
    verbose_name = "Integration"

    def ready(self):
        from his import backends  # noqa: F401  (connects the failed-login audit)
