"""URL map: the portal at /, the REST API at /api/v1/, Django's admin for the secretariat at /admin/."""

from django.contrib import admin
from django.urls import include, path

from tldops.api.router import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("tldops.web.urls")),
]
