from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from his import views

urlpatterns = [
    path("", views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),  # the language switch (set_language)
    path("", include("ops.urls")),  # health, metrics, and the admin's integration dashboard
    path("admin/", admin.site.urls),
    path("desk/", include("desk.urls")),
    # What a person types in a browser: pages, not webservice calls (no credentials asked, none counted).
    path("api", RedirectView.as_view(pattern_name="api-docs", permanent=False)),
    path("api/", RedirectView.as_view(pattern_name="api-docs", permanent=False)),
    path("api/docs", RedirectView.as_view(pattern_name="api-docs", permanent=False)),
    path("api/schema", RedirectView.as_view(pattern_name="schema", permanent=False)),
    path("", include("webservices.urls")),
]

handler404 = "his.views.not_found"
