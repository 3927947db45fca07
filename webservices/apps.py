from django.apps import AppConfig


class WebservicesConfig(AppConfig):
    """The SOAP and REST webservices tuOtempO calls: one declaration per method, two protocol shells."""

    name = "webservices"
    verbose_name = "Webservices"
