"""A fortnight of appeals the briefing tests share, built through the services with the clock set.

Category 用地规划 (land): sign within 1 working day, answer (一般) within 5. March 2026 has no
holiday. Zone A routes land to 高新区市场监管局 (market_a), zone B to 经开区市场监管局 (market_b).

Dispatched Mon 03-02 09:00 (sign_due 03-04 00:00, answer_due Mon 03-09 24:00 = 03-10 00:00):
  a_good    zone A: signed and answered on 03-03, rated 满意 / solved: closed 03-03
  a_late    zone A: signed 03-05 (late), answered 03-11 (late), rated 不满意 → reopened, open
  a_red     zone A, title with a mobile and an ID number: signed, never answered → 红牌 on 03-13
  b_red     zone B: signed, never answered → 红牌 on 03-13
Dispatched Mon 03-09 09:00 (answer_due 03-17 00:00):
  a_next    zone A: signed and answered on 03-10, rated 基本满意 / not solved: closed 03-10
Submitted Wed 03-11, never dispatched:
  a_new     zone A

The weekly briefing of the week of 03-09 (Period 03-09 … 03-16) is generated at NOW, Monday
03-16 07:00 Beijing.
"""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import time_machine

from guanjia.appeals import escalation, lifecycle, services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.kpi import Period
from guanjia.appeals.models import Appeal, Channel, Outcome, RatingLevel
from guanjia.core.models import OrgUnit
from guanjia.core.roles import Role
from guanjia.testing import Cast, make_user

BJ = ZoneInfo("Asia/Shanghai")
WEEK = Period(date(2026, 3, 9), date(2026, 3, 16))
PREVIOUS_WEEK = Period(date(2026, 3, 2), date(2026, 3, 9))
NOW = datetime(2026, 3, 16, 7, 0, tzinfo=BJ)
MOBILE = "13812345678"
ID_NUMBER = "110101199003077578"


def at(month: int, day: int, hour: int, minute: int = 0) -> time_machine.travel:
    return time_machine.travel(datetime(2026, month, day, hour, minute, tzinfo=BJ), tick=False)


def build_fortnight(cast: Cast) -> SimpleNamespace:
    land = ensure_default_categories()["land"]
    market_b = OrgUnit.objects.create(
        name="经开区市场监管局", code="zone-b-market", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_b
    )
    services.set_route(land, cast.zone_a, cast.market_a, by=None)
    services.set_route(land, cast.zone_b, market_b, by=None)
    dispatcher_b = make_user("dispatcher_b", cast.centre_b, Role.DISPATCHER)
    handler_b = make_user("handler_b", market_b, Role.HANDLER)
    leader_b = make_user("leader_b", cast.zone_b, Role.LEADER)
    supervisor_city = make_user("supervisor_city", cast.city, Role.SUPERVISOR)

    def submit(title: str, enterprise=None, by=None) -> Appeal:
        return lifecycle.submit_appeal(
            enterprise or cast.ent_a1,
            title=title,
            body="请协调办理。",
            channel=Channel.PORTAL if by is None else Channel.STEWARD,
            by=by or cast.ent_user_a1,
            category=land,
        )

    a: dict[str, Appeal] = {}
    with at(3, 2, 9):
        a["a_good"] = submit("厂区道路破损")
        a["a_late"] = submit("用电增容")
        a["a_red"] = submit(f"联系人电话{MOBILE}，身份证{ID_NUMBER}，请尽快处理")
        a["b_red"] = submit("仓库消防验收", enterprise=cast.ent_b1, by=cast.steward_b)
        for name in ("a_good", "a_late", "a_red"):
            lifecycle.dispatch_appeal(a[name], by=cast.dispatcher_a)
        lifecycle.dispatch_appeal(a["b_red"], by=dispatcher_b)
    with at(3, 2, 10):
        lifecycle.sign_appeal(a["a_red"], by=cast.handler_a)
        lifecycle.sign_appeal(a["b_red"], by=handler_b)
    with at(3, 3, 10):
        lifecycle.sign_appeal(a["a_good"], by=cast.handler_a)
        lifecycle.answer_appeal(a["a_good"], answer="已修复。", outcome=Outcome.SOLVED, by=cast.handler_a)
    with at(3, 3, 11):
        lifecycle.rate_appeal(a["a_good"], level=RatingLevel.SATISFIED, solved=True, by=cast.ent_user_a1)
    with at(3, 5, 10):
        lifecycle.sign_appeal(a["a_late"], by=cast.handler_a)
    with at(3, 9, 9):
        a["a_next"] = submit("招工需求对接")
        lifecycle.dispatch_appeal(a["a_next"], by=cast.dispatcher_a)
    with at(3, 10, 10):
        lifecycle.sign_appeal(a["a_next"], by=cast.handler_a)
        lifecycle.answer_appeal(a["a_next"], answer="已对接。", outcome=Outcome.PARTLY, by=cast.handler_a)
    with at(3, 10, 11):
        lifecycle.rate_appeal(
            a["a_next"], level=RatingLevel.FAIRLY_SATISFIED, solved=False, by=cast.ent_user_a1
        )
    with at(3, 11, 10):
        lifecycle.answer_appeal(a["a_late"], answer="已增容。", outcome=Outcome.SOLVED, by=cast.handler_a)
        a["a_new"] = submit("政策咨询")
    with at(3, 11, 11):
        lifecycle.rate_appeal(a["a_late"], level=RatingLevel.DISSATISFIED, solved=False, by=cast.ent_user_a1)
    with at(3, 13, 9):
        escalation.sweep()
    for appeal in a.values():
        appeal.refresh_from_db()
    return SimpleNamespace(
        cast=cast,
        land=land,
        market_b=market_b,
        leader_b=leader_b,
        supervisor_city=supervisor_city,
        appeals=a,
    )
