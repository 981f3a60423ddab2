"""API fuzz positives of the policies app: delivery (/api/policy-deliveries/)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from guanjia.core.models import User
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.policies import delivery, library
from guanjia.policies.access import coverage_zones, today
from guanjia.policies.models import BenefitItem, Delivery, DeliveryStatus
from guanjia.tests_fuzz.world import Positive

PATH = "/api/policy-deliveries/"


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx: the handler keeps a policy without
    conditions (every enterprise of its zone qualifies); the enterprise user's enterprise receives it."""
    handler, owner = users["handler"], users["enterprise_user"]
    own = EnterpriseMembership.objects.get(user=owner, is_active=True).enterprise
    policy = library.create_policy(
        by=handler, title="模糊测试兑现政策", issuer="高新区管委会", effective_on=date(2020, 1, 1)
    )
    assert coverage_zones(policy).filter(pk=own.zone_id).exists(), (policy, own)

    def item(name: str) -> BenefitItem:
        # An item of its own for each delivery (one delivery per item and enterprise).
        return library.add_item(policy, by=handler, name=name, max_amount=Decimal("100"))

    def walked(name: str, to: str) -> Delivery:
        d = delivery.push(item(name), own, by=handler)
        if to != DeliveryStatus.PUSHED:
            delivery.apply(d, by=owner)
        if to == DeliveryStatus.APPROVED:
            delivery.approve(d, by=handler)
        return d

    unpushed = item("模糊测试兑现事项（推送）")
    read = walked("模糊测试兑现事项（读）", DeliveryStatus.APPLIED)
    pushed = walked("模糊测试兑现事项（申请）", DeliveryStatus.PUSHED)
    approving = walked("模糊测试兑现事项（审核）", DeliveryStatus.APPLIED)
    rejecting = walked("模糊测试兑现事项（退回）", DeliveryStatus.APPLIED)
    paying = walked("模糊测试兑现事项（兑现）", DeliveryStatus.APPROVED)
    return [
        Positive(f"GET {PATH}", "leader", query={"status": DeliveryStatus.APPLIED, "overdue": "false"}),
        Positive(f"POST {PATH}", "handler", body={"item": unpushed.pk, "enterprise": own.pk}),
        Positive(f"GET {PATH}{{id}}/", "enterprise_user", {"id": read.pk}),
        Positive(
            f"POST {PATH}{{id}}/apply/",
            "enterprise_user",
            {"id": pushed.pk},
            body={"note": "已准备申请材料", "version": pushed.version},
        ),
        Positive(
            f"POST {PATH}{{id}}/approve/",
            "handler",
            {"id": approving.pk},
            body={"note": "材料齐全", "version": approving.version},
        ),
        Positive(
            f"POST {PATH}{{id}}/reject/",
            "handler",
            {"id": rejecting.pk},
            body={"reason": "不符合支持条件", "version": rejecting.version},
        ),
        Positive(
            f"POST {PATH}{{id}}/disburse/",
            "handler",
            {"id": paying.pk},
            body={"amount": "20.00", "disbursed_on": today().isoformat(), "version": paying.version},
        ),
        Positive(f"GET {PATH}totals/", "leader"),
    ]
