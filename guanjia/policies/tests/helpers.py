"""Builders for policies tests: rows written straight to the tables, for tests that need a policy or a
benefit item to exist. Tests of a service call the service itself; these only set the scene.

make_policy(department, **fields) -> Policy   in force since 2020-01-01, no expiry, unless told
make_item(policy, **conditions) -> BenefitItem
    divisions / scales / tiers: a list of codes (or a comma-separated string), stored with join_codes;
    zones: OrgUnits (zones); tags: Tags or tag names (created where missing); any other BenefitItem field.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Tag
from guanjia.policies.models import BenefitItem, Policy, join_codes
from guanjia.testing import make_user

_MULTI_CODES = ("divisions", "scales", "tiers")


def _author(department: OrgUnit) -> User:
    """A keeper of `department` to stand as the policy's author: its first handler, else a new one."""
    existing = (
        User.objects.filter(unit=department, role_grants__role__in=[Role.HANDLER, Role.DEPARTMENT_HEAD])
        .order_by("pk")
        .first()
    )
    if existing is not None:
        return existing
    return make_user(f"policy_author_{department.pk}", department, Role.HANDLER)


def make_policy(department: OrgUnit, **fields: Any) -> Policy:
    """A policy of `department`, in force since 2020-01-01 without expiry unless `fields` say otherwise."""
    fields.setdefault("title", "关于支持企业研发创新的若干政策")
    fields.setdefault("issuer", "示例市人民政府")
    fields.setdefault("document_number", "示政规〔2026〕1号")
    fields.setdefault("effective_on", date(2020, 1, 1))
    fields.setdefault("full_text", "第一条 为支持企业研发创新，制定本政策。")
    if "created_by" not in fields:
        fields["created_by"] = _author(department)
    return Policy.objects.create(department=department, **fields)


def _codes(value: str | Iterable[str]) -> str:
    if isinstance(value, str):
        return join_codes(value.split(","))
    return join_codes(str(code) for code in value)


def make_item(policy: Policy, **conditions: Any) -> BenefitItem:
    """A benefit item of `policy` with the given conditions (none: every covered enterprise qualifies)."""
    zones = conditions.pop("zones", None)
    tags = conditions.pop("tags", None)
    for name in _MULTI_CODES:
        if name in conditions:
            conditions[name] = _codes(conditions[name])
    conditions.setdefault("name", "研发费用补贴")
    item = BenefitItem.objects.create(policy=policy, **conditions)
    if zones:
        item.zones.set(zones)
    if tags:
        item.tags.set(
            [tag if isinstance(tag, Tag) else Tag.objects.get_or_create(name=tag)[0] for tag in tags]
        )
    return item


def make_head(department: OrgUnit, username: str = "") -> User:
    """The department_head of `department`: a keeper of its policies, as its handlers are."""
    return make_user(username or f"head_{department.code}", department, Role.DEPARTMENT_HEAD)


def make_department(parent: OrgUnit, code: str, name: str = "") -> OrgUnit:
    """A department under a zone (its policies cover that zone) or a city (every zone of the city)."""
    return OrgUnit.objects.create(
        name=name or f"{parent.name}{code}", code=code, kind=OrgUnit.Kind.DEPARTMENT, parent=parent
    )
