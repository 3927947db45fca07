from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("ops.urls")),  # health, metrics, and the admin's integration dashboard
    path("admin/", admin.site.urls),
    path("desk/", include("desk.urls")),
    path("", include("webservices.urls")),
]
