from django.apps import AppConfig


class HisConfig(AppConfig):
    """The project package. It holds no models: its migrations are the history of the tables that the
    clients app took over (integration clients and the audit log), kept so that a database made by an
    earlier release migrates with nothing lost."""

    name = "his"
    verbose_name = "Project"
