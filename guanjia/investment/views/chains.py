"""Pages: chains (to be filled)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
