"""Masking of personal data by role: the one place pages, API and exports ask.

Roles that must reach people to do their work see phone numbers and ID
numbers in full; everyone else sees them masked (leaders see figures and the
appeals behind them, but not whom to call).
"""

from __future__ import annotations

from guanjia.core.models import User
from guanjia.core.roles import Role

UNMASKED_ROLES = frozenset({Role.ENTERPRISE_USER, Role.STEWARD, Role.DISPATCHER, Role.SUPERVISOR})


def sees_personal_data(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_any_role(UNMASKED_ROLES))


def mask_phone(value: str) -> str:
    """138****5678 for a mobile; keep the area code and last 2 digits of a landline."""
    digits = value.strip()
    if not digits:
        return ""
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 6:
        return f"{digits[:2]}{'*' * (len(digits) - 4)}{digits[-2:]}"
    return "*" * len(digits)


def mask_id_number(value: str) -> str:
    """Resident ID: keep the first 3 and last 2 characters."""
    value = value.strip()
    if len(value) <= 5:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 5)}{value[-2:]}"


def phone_for(user: User | None, value: str) -> str:
    return value if sees_personal_data(user) else mask_phone(value)


def id_number_for(user: User | None, value: str) -> str:
    return value if sees_personal_data(user) else mask_id_number(value)
