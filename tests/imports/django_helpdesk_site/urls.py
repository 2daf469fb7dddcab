"""django-helpdesk's pages and its REST API (/api/), as a site mounts them."""

from django.urls import include, path

urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
