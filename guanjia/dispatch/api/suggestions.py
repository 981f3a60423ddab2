"""API of smart dispatch: suggestions. OWNER: helper E."""

from django.urls import URLPattern
from rest_framework.routers import DefaultRouter

extra_urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    pass
