"""Checks of one input value that services share; each refusal names its field (core.errors.InvalidField)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from guanjia.core.errors import InvalidField


def clean_text(
    field: str, label: str, value: Any, *, limit: int | None = None, required: bool = False
) -> str:
    """The text stripped; refused when required and empty, or longer than `limit` characters."""
    text = str(value if value is not None else "").strip()
    if required and not text:
        raise InvalidField(field, _("%(label)s：请填写") % {"label": label})
    if limit is not None and len(text) > limit:
        raise InvalidField(field, _("%(label)s：不能超过 %(n)d 个字") % {"label": label, "n": limit})
    return text


def clean_optional_whole(field: str, label: str, value: Any, *, low: int, high: int) -> int | None:
    """A whole number in [low, high], or None when left empty."""
    if value is None or value == "":
        return None
    return clean_whole(field, label, value, low=low, high=high)


def clean_whole(field: str, label: str, value: Any, *, low: int, high: int) -> int:
    """A whole number in [low, high] that must be given (a bool or a decimal is refused)."""
    if value is None or value == "":
        raise InvalidField(field, _("%(label)s：请填写") % {"label": label})
    if isinstance(value, bool):
        raise InvalidField(field, _("%(label)s：请填写整数") % {"label": label})
    try:
        number = int(str(value))
    except (ValueError, TypeError):
        raise InvalidField(field, _("%(label)s：请填写整数") % {"label": label}) from None
    if not low <= number <= high:
        raise InvalidField(
            field,
            _("%(label)s：应在 %(low)d 到 %(high)d 之间") % {"label": label, "low": low, "high": high},
        )
    return number
