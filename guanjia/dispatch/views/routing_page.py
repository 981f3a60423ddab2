"""Pages of smart dispatch: routing_page. OWNER: see the brief."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
