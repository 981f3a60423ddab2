"""The home page tells each role what waits for it among the appeals."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.urls import reverse

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Assignment, Channel, Outcome

BJ = ZoneInfo("Asia/Shanghai")


def _count(page: str, label: str) -> int:
    found = re.search(
        r'<div class="h1 m-0[^"]*">(\d+)</div><div class="text-secondary">' + re.escape(label), page
    )
    assert found, label
    return int(found.group(1))


def _submit(cast, land):
    return lifecycle.submit_appeal(
        cast.ent_a1, title="用地咨询", body="b", channel=Channel.PORTAL, by=cast.ent_user_a1, category=land
    )


def test_each_role_sees_its_own_counts(routed, land, login):
    cast = routed
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=BJ), tick=False):
        waiting = _submit(cast, land)
        dispatched = _submit(cast, land)
        lifecycle.dispatch_appeal(dispatched, by=cast.dispatcher_a)
        answered = _submit(cast, land)
        lifecycle.dispatch_appeal(answered, by=cast.dispatcher_a)
        lifecycle.sign_appeal(answered, by=cast.handler_a)
        lifecycle.answer_appeal(answered, answer="已答复", outcome=Outcome.SOLVED, by=cast.handler_a)
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=BJ), tick=False):
        dispatcher = login(cast.dispatcher_a).get(reverse("home")).content.decode()
        assert _count(dispatcher, "待受理") == 1 and _count(dispatcher, "受理超期") == 1
        handler = login(cast.handler_a).get(reverse("home")).content.decode()
        assert _count(handler, "待签收") == 1 and _count(handler, "已超期") == 1
        enterprise = login(cast.ent_user_a1).get(reverse("home")).content.decode()
        assert _count(enterprise, "办理中") == 2 and _count(enterprise, "待评价") == 1
        leader = login(cast.leader_a).get(reverse("home")).content.decode()
        assert _count(leader, "答复超期") == 1
        # Someone else's department and another zone see none of it.
        assert _count(login(cast.handler_centre).get(reverse("home")).content.decode(), "待签收") == 0
        assert _count(login(cast.dispatcher_b).get(reverse("home")).content.decode(), "待受理") == 0
        assert "部门工作台" not in login(cast.steward_a2).get(reverse("home")).content.decode()
    assert waiting.status == "submitted"


def test_an_appeal_waiting_for_material_is_in_hand_but_never_overdue(routed, land, login):
    cast = routed
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=BJ), tick=False):
        late = _submit(cast, land)
        lifecycle.dispatch_appeal(late, by=cast.dispatcher_a)
        lifecycle.sign_appeal(late, by=cast.handler_a)
        paused = _submit(cast, land)
        lifecycle.dispatch_appeal(paused, by=cast.dispatcher_a)
        lifecycle.sign_appeal(paused, by=cast.handler_a)
        lifecycle.pause_appeal(paused, request="请补充营业执照复印件", by=cast.handler_a)
    # Both answer deadlines have passed; the paused appeal's clock stands still.
    now = datetime(2026, 3, 20, 9, 0, tzinfo=BJ)
    assert all(a.answer_due <= now for a in Assignment.objects.filter(appeal__in=[late, paused]))
    with time_machine.travel(now, tick=False):
        handler = login(cast.handler_a).get(reverse("home")).content.decode()
        assert _count(handler, "办理中") == 2 and _count(handler, "已超期") == 1
        leader = login(cast.leader_a).get(reverse("home")).content.decode()
        assert _count(leader, "答复超期") == 1
