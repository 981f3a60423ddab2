"""Two decisions of one service at once: one applies, the other is told (Conflict); nothing is lost."""

from __future__ import annotations

import pytest

from guanjia.core.errors import Conflict
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.talent import services
from guanjia.talent.models import ServiceKind, TalentApplication, TalentService
from guanjia.talent.tests.scene import build_scene
from guanjia.testing import build_cast, make_user, run_concurrently


@pytest.mark.django_db(transaction=True)
def test_two_decisions_of_one_service_at_once_one_applies():
    cast = build_cast()
    scene = build_scene(cast)
    colleague = make_user("market_head", cast.market_a, Role.DEPARTMENT_HEAD)
    service = services.request_service(scene.approved, kind=ServiceKind.HOUSING, by=cast.ent_user_a1)
    mine, theirs = TalentService.objects.get(pk=service.pk), TalentService.objects.get(pk=service.pk)

    results = run_concurrently(
        lambda: services.decide_service(
            mine, by=cast.handler_a, grant=True, result="人才公寓 3-201", version=1
        ),
        lambda: services.decide_service(theirs, by=colleague, grant=False, reason="房源已满", version=1),
    )

    assert sum(isinstance(r, TalentService) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    stored = TalentService.objects.get(pk=service.pk)
    assert stored.version == 2
    assert (stored.status, stored.result, stored.reason) in {
        ("granted", "人才公寓 3-201", ""),
        ("declined", "", "房源已满"),
    }
    assert AuditRecord.objects.filter(action="talent.service_decide", object_id=str(service.pk)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_decisions_of_one_application_at_once_one_applies():
    cast = build_cast()
    scene = build_scene(cast)
    mine = TalentApplication.objects.get(pk=scene.submitted.pk)
    theirs = TalentApplication.objects.get(pk=scene.submitted.pk)

    results = run_concurrently(
        lambda: services.decide_application(mine, by=scene.talent_handler, approve=True),
        lambda: services.decide_application(theirs, by=scene.talent_head, approve=False, reason="材料不全"),
    )

    assert sum(isinstance(r, TalentApplication) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert TalentApplication.objects.get(pk=scene.submitted.pk).version == 2
