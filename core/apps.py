from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every domain app shares: the error type and its words, abstract model pieces, admin helpers."""

    name = "core"
    verbose_name = "Core"
