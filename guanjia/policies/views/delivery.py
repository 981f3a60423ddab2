"""Pages of the policies app: delivery."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
