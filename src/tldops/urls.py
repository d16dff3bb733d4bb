"""URL map: the portal at /, the REST API at /api/v1/, Django's admin for the secretariat at /admin/."""

from django.contrib import admin
from django.urls import include, path, re_path

from tldops.api.router import api, not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # Whatever else is under /api/ answers the API's JSON 404, whatever the method.
    re_path(r"^api(?:/(?P<path>.*))?$", not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("tldops.web.urls")),
]
