"""REST API: chains (to be filled)."""

from django.urls import URLPattern
from rest_framework.routers import DefaultRouter

extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Register this part's viewsets on the one router."""
