from django.urls import path

from tldops.web import views

app_name = "web"

urlpatterns = [
    path("", views.coverage, name="coverage"),
]
