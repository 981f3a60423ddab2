"""Pages of the exchange app: practices."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
