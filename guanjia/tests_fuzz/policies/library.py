"""API fuzz positives of the policies app: library."""

from __future__ import annotations

from datetime import date

from guanjia.core.models import User
from guanjia.policies import library
from guanjia.policies.models import BenefitItem, Policy
from guanjia.tests_fuzz.world import Positive

POLICIES = "/api/policies/"
ITEMS = "/api/benefit-items/"


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx: the handler of 高新区市场监督管理局
    keeps the policies; its zone's steward reads them."""
    handler = users["handler"]

    def fresh_policy(title: str) -> Policy:
        # A policy of its own for each versioned write, so that no positive case stales another's version.
        return library.create_policy(
            by=handler, title=title, issuer="高新区管委会", effective_on=date(2026, 1, 1)
        )

    def fresh_item(policy: Policy, name: str) -> BenefitItem:
        return library.add_item(policy, by=handler, name=name, scales=["small"], min_years=1)

    read = fresh_policy("模糊测试政策（读）")
    patched = fresh_policy("模糊测试政策（改）")
    item_read = fresh_item(read, "模糊测试兑现事项（读）")
    item_patched = fresh_item(read, "模糊测试兑现事项（改）")
    item_removed = fresh_item(read, "模糊测试兑现事项（删）")
    return [
        Positive(f"GET {POLICIES}", "steward", query={"state": "all", "search": "模糊测试"}),
        Positive(
            f"POST {POLICIES}",
            "handler",
            body={
                "title": "模糊测试新政策",
                "issuer": "高新区管委会",
                "document_number": "模糊〔2026〕1号",
                "effective_on": "2026-03-01",
                "expires_on": "2028-12-31",
            },
        ),
        Positive(f"GET {POLICIES}{{id}}/", "enterprise_user", {"id": read.pk}),
        Positive(
            f"PATCH {POLICIES}{{id}}/",
            "handler",
            {"id": patched.pk},
            body={"full_text": "第一条 模糊测试。", "version": 1},
        ),
        Positive(f"GET {ITEMS}", "steward", query={"policy": read.pk}),
        Positive(
            f"POST {ITEMS}",
            "department_head",
            body={
                "policy": read.pk,
                "name": "模糊测试新兑现事项",
                "category": "reward",
                "scales": ["small", "medium"],
                "tiers": ["key"],
                "divisions": ["39"],
                "min_years": 2,
                "max_years": 10,
                "capital_min": "100.00",
                "max_amount": "50.00",
            },
        ),
        Positive(f"GET {ITEMS}{{id}}/", "leader", {"id": item_read.pk}),
        Positive(
            f"PATCH {ITEMS}{{id}}/",
            "handler",
            {"id": item_patched.pk},
            body={"auto_grant": True, "scales": [], "version": 1},
        ),
        Positive(f"DELETE {ITEMS}{{id}}/", "handler", {"id": item_removed.pk}),
    ]
