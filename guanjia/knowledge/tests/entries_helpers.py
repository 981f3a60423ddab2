"""What the knowledge base's tests share: departments, entries and answered 咨询 appeals of the cast."""

from __future__ import annotations

from guanjia.appeals import lifecycle
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Appeal, Channel, Handling, Outcome
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.knowledge import entries
from guanjia.knowledge.models import Entry
from guanjia.testing import Cast, make_user


def department(zone: OrgUnit, code: str, name: str) -> OrgUnit:
    return OrgUnit.objects.create(name=name, code=code, kind=OrgUnit.Kind.DEPARTMENT, parent=zone)


def entry(
    by: User, question: str, answer: str = "请到政务服务中心窗口办理。", *, published: bool = True, **fields
) -> Entry:
    made = entries.create_entry(by=by, question=question, answer=answer, **fields)
    if published:
        made = entries.publish(made, by=by, version=made.version)
    return made


def handler_b(cast: Cast) -> User:
    """A handler of zone B's 市场监管局."""
    return make_user("handler_b", department(cast.zone_b, "zone-b-market", "经开区市场监管局"), Role.HANDLER)


def ent_user_b1(cast: Cast) -> User:
    user = make_user("ent_user_b1", None, Role.ENTERPRISE_USER)
    EnterpriseMembership.objects.create(user=user, enterprise=cast.ent_b1)
    return user


def consult_appeal(
    cast: Cast,
    *,
    title: str = "公司变更经营范围需要哪些材料",
    answered: bool = True,
    handling: str = Handling.CONSULT,
) -> Appeal:
    """An appeal of ent_a1 given to 市场监管局, answered by handler_a (unless `answered` is False)."""
    appeal = lifecycle.submit_appeal(
        cast.ent_a1,
        title=title,
        body="我司想增加经营范围，请问需要准备什么材料？",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
        category=ensure_default_categories()["land"],
        handling=handling,
    )
    lifecycle.dispatch_appeal(appeal, to=cast.market_a, by=cast.dispatcher_a)
    lifecycle.sign_appeal(appeal, by=cast.handler_a)
    if answered:
        lifecycle.answer_appeal(
            appeal,
            answer="携带变更登记申请书和章程修正案到窗口办理。",
            outcome=Outcome.SOLVED,
            by=cast.handler_a,
        )
    appeal.refresh_from_db()
    return appeal
