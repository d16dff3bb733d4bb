"""URL map: the portal at /, the REST API at /api/v1/.

Django's admin is not mounted: it let a ``createsuperuser`` account in with a password alone, round
the staff's second factor, and changed rows without an audit entry. What staff used it for has its
own audited door (e.g. resetting a member's second factor, ``tldops.directory.second_factor``).
"""

from django.urls import include, path, re_path

from tldops.api.router import api, not_found

urlpatterns = [
    path("api/v1/", api.urls),
    # Whatever else is under /api/ answers the API's JSON 404, whatever the method.
    re_path(r"^api(?:/(?P<path>.*))?$", not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("tldops.web.urls")),
]
