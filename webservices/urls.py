from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularJSONAPIView, SpectacularSwaggerView

from webservices import rest, soap

METHOD_VIEWS = {name: view.as_view() for name, view in rest.views().items()}

urlpatterns = [
    path("soap/", soap.soap_endpoint, name="soap"),
    path("soap", soap.soap_endpoint),
    # JSON, so that a browser shows it (YAML at /api/schema.yaml).
    path("api/schema/", SpectacularJSONAPIView.as_view(renderer_classes=[rest.ReadableSchemaRenderer]), name="schema"),
    path("api/schema.yaml", SpectacularAPIView.as_view(), name="schema-yaml"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    *[re_path(rf"^api/{name}/?$", view, name=f"api-{name}") for name, view in METHOD_VIEWS.items()],
    # Method paths match in any letter case: the guide's spelling (/api/searchAvailabilities) answers too.
    re_path(r"^api/(?P<name>.*)$", rest.method_in_any_case(METHOD_VIEWS)),
]
