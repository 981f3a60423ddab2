"""Pages of smart dispatch: search. OWNER: see the brief."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
