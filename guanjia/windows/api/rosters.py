"""REST API of the windows app: rosters."""

from __future__ import annotations

from django.urls import URLPattern
from rest_framework.routers import DefaultRouter

extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Adds this part's viewsets to the one router."""
