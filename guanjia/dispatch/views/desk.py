"""Pages of smart dispatch: desk. OWNER: see the brief."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
