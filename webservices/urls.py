from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from webservices import rest, soap

urlpatterns = [
    path("soap/", soap.soap_endpoint, name="soap"),
    path("soap", soap.soap_endpoint),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    *[re_path(rf"^api/{name}(?:/)?$", view.as_view(), name=f"api-{name}") for name, view in rest.views().items()],
    re_path(r"^api/(?P<name>.*)$", rest.unknown_method),
]
