"""API fuzz positives of the talent app: the demo's enterprise user adds needs, applies and asks for
services; the demo's handler decides what is routed to its department; the zone's leader reads, keeps
the tiers and reads the counts.

The applications and services the handler decides are the positives' own, written straight to the tables
as the submitting service would have left them but routed to the handler's department, so that they hold
whatever the talent demo holds (it routes the recognition to 人力资源和社会保障局).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from guanjia.core import workcalendar
from guanjia.core.models import User
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.talent.models import (
    ApplicationStatus,
    RouteKind,
    ServiceKind,
    TalentApplication,
    TalentNeed,
    TalentService,
    TalentServiceRoute,
    TalentTier,
)
from guanjia.tests_fuzz.world import Positive

# Valid resident ID numbers (GB 11643) that the demo does not use.
ID_NEW = "110105198001010032"
ID_OWN = "320582199007182028"


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this app that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    handler, user = users["handler"], users["enterprise_user"]
    department = handler.unit
    assert department is not None and department.parent is not None, handler
    zone = department.parent
    membership = (
        EnterpriseMembership.objects.filter(user=user, is_active=True).select_related("enterprise").first()
    )
    assert membership is not None and membership.enterprise.zone_id == zone.pk, user
    enterprise = membership.enterprise
    tier = TalentTier.objects.create(zone=zone, code="FZ", name="模糊测试人才", position=90)
    for kind in RouteKind.values:  # kept as the demo set them; made where the demo set none
        TalentServiceRoute.objects.get_or_create(zone=zone, kind=kind, defaults={"department": department})
    now = timezone.now()
    need = TalentNeed.objects.create(
        enterprise=enterprise,
        post="模糊测试岗位",
        count=1,
        by_date=now.date() + timedelta(days=30),
        created_by=user,
    )

    def application(status: str, name: str) -> TalentApplication:
        return TalentApplication.objects.create(
            enterprise=enterprise,
            person_name=name,
            id_number=ID_OWN,
            phone="13951239999",
            tier=tier,
            department=department,
            status=status,
            submitted_by=user,
        )

    waiting = application(ApplicationStatus.SUBMITTED, "模糊待认定")
    approved = application(ApplicationStatus.APPROVED, "模糊已认定")
    due = workcalendar.deadline(now, 5)
    service = TalentService.objects.create(
        application=approved,
        enterprise=enterprise,
        kind=ServiceKind.HOUSING,
        department=department,
        requested_by=user,
        workdays=5,
        due_at=due.due,
        due_day=due.day,
        provisional=due.provisional,
    )
    later = (now.date() + timedelta(days=20)).isoformat()
    return [
        Positive("GET /api/talent-tiers/", "leader", query={"zone": zone.pk}),
        Positive(
            "POST /api/talent-tiers/", "leader", body={"zone": zone.pk, "code": "FY", "name": "青年人才"}
        ),
        Positive("GET /api/talent-tiers/{id}/", "enterprise_user", {"id": tier.pk}),
        Positive(
            "PATCH /api/talent-tiers/{id}/",
            "leader",
            {"id": tier.pk},
            body={"name": "模糊测试类别", "version": 1},
        ),
        Positive("GET /api/talent-needs/", "enterprise_user", query={"status": "open"}),
        Positive(
            "POST /api/talent-needs/",
            "enterprise_user",
            body={"enterprise": enterprise.pk, "post": "算法工程师", "count": 2, "by_date": later},
        ),
        Positive("GET /api/talent-needs/{id}/", "leader", {"id": need.pk}),
        Positive(
            "POST /api/talent-needs/{id}/close/",
            "enterprise_user",
            {"id": need.pk},
            body={"status": "filled", "version": 1},
        ),
        Positive("GET /api/talent-applications/", "leader", query={"enterprise": enterprise.pk}),
        Positive(
            "POST /api/talent-applications/",
            "enterprise_user",
            body={
                "enterprise": enterprise.pk,
                "person_name": "模糊申请人",
                "id_number": ID_NEW,
                "phone": "13951238888",
                "tier": tier.pk,
            },
        ),
        Positive("GET /api/talent-applications/{id}/", "handler", {"id": waiting.pk}),
        Positive(
            "POST /api/talent-applications/{id}/decide/",
            "handler",
            {"id": waiting.pk},
            body={"approve": False, "reason": "材料不全", "version": 1},
        ),
        Positive("GET /api/talent-services/", "handler", query={"status": "requested"}),
        Positive(
            "POST /api/talent-services/",
            "enterprise_user",
            body={"application": approved.pk, "kind": "medical", "note": "就医绿色通道"},
        ),
        Positive("GET /api/talent-services/{id}/", "enterprise_user", {"id": service.pk}),
        Positive(
            "POST /api/talent-services/{id}/decide/",
            "handler",
            {"id": service.pk},
            body={"grant": True, "result": "人才公寓 1-101", "version": 1},
        ),
        Positive("GET /api/talent-counts/", "leader", query={"zone": zone.pk}),
    ]
