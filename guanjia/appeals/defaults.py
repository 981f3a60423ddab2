"""The default category tree. Migration 0002 writes the same list (migrations import no app code)."""

from __future__ import annotations

from guanjia.appeals.models import AppealCategory

DEFAULT_CATEGORIES = [
    ("land", "用地规划"),
    ("finance", "融资信贷"),
    ("talent", "用工人才"),
    ("approval", "审批许可"),
    ("utilities", "水电气网"),
    ("tax", "税费"),
    ("policy", "政策兑现"),
    ("market", "市场监管"),
    ("ip", "知识产权"),
    ("safety", "安全环保"),
    ("logistics", "物流交通"),
    ("other", "其他"),
]


def ensure_default_categories() -> dict[str, AppealCategory]:
    """The default categories by code, created where missing.

    Tests need this: a TransactionTestCase empties every table when it ends,
    rows written by data migrations included.
    """
    return {
        code: AppealCategory.objects.get_or_create(code=code, defaults={"name": name, "position": i * 10})[0]
        for i, (code, name) in enumerate(DEFAULT_CATEGORIES, start=1)
    }
