"""REST API for enterprises and stewards (filled in below)."""

from rest_framework.routers import DefaultRouter

extra_urlpatterns: list = []


def register(router: DefaultRouter) -> None:
    return None
