"""Deadlines as people say them: 24:00 of the deadline day, in Beijing time."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def deadline(value: datetime | None) -> str:
    """2026-12-01 00:00 → "2026-11-30 24:00"; other moments as "Y-m-d H:i" (local time)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"
