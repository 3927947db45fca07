from django.contrib import admin
from django.urls import path

from ops import dashboard, health, metrics

urlpatterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics.metrics, name="metrics"),
    # Before the admin's own URLs, whose catch-all would answer this path first.
    path("admin/integration-dashboard/", admin.site.admin_view(dashboard.dashboard), name="ops-dashboard"),
]
