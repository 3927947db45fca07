from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo hospital and its commands (seed_demo, ensure_demo_admin); factory-boy is only needed here."""

    name = "demo"
