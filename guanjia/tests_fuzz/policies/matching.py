"""API fuzz positives of the policies app: matching (/api/policy-matching/)."""

from __future__ import annotations

from datetime import date

from guanjia.core.models import User
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.policies import library
from guanjia.tests_fuzz.world import Positive

ITEMS = "/api/policy-matching/items/"
ENTERPRISES = "/api/policy-matching/enterprises/"


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx: the handler reads the matches of an
    item of its own department's policy; the enterprise user reads its own enterprise's benefits."""
    handler, owner = users["handler"], users["enterprise_user"]
    own = EnterpriseMembership.objects.get(user=owner, is_active=True).enterprise
    policy = library.create_policy(
        by=handler, title="模糊测试匹配政策", issuer="高新区管委会", effective_on=date(2020, 1, 1)
    )
    item = library.add_item(policy, by=handler, name="模糊测试匹配事项", scales=["small", "medium"])
    return [
        Positive(f"GET {ITEMS}{{id}}/", "handler", {"id": item.pk}, query={"page": 1}),
        Positive(f"GET {ENTERPRISES}{{id}}/", "enterprise_user", {"id": own.pk}),
    ]
