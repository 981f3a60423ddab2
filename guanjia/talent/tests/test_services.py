"""Talent services (guanjia/talent/services.py): tiers and routes, needs, applications and their decision,
services with their working-day deadlines, the overdue flag, notifications, audit, and who may not."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine

from guanjia.core.errors import Conflict, InvalidField, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, Notification
from guanjia.core.workcalendar import BEIJING
from guanjia.talent import access, services
from guanjia.talent.models import (
    ApplicationStatus,
    NeedStatus,
    RouteKind,
    ServiceKind,
    ServiceStatus,
    TalentApplication,
    TalentDocument,
    TalentNeed,
    TalentService,
)
from guanjia.talent.tests.scene import BAD_ID, ID_3, build_scene, pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(cast):
    return build_scene(cast)


@pytest.fixture
def store(settings, tmp_path):
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    return settings.ATTACHMENTS_DIR


# --- tiers and routes -----------------------------------------------------------------------------------


def test_tiers_are_kept_by_the_zones_leaders_and_supervisors_only(scene):
    cast = scene.cast
    tier = services.save_tier(cast.zone_a, by=cast.supervisor_a, code="f", name="青年人才", position=6)
    assert (tier.code, tier.name, tier.version) == ("F", "青年人才", 1)
    assert AuditRecord.objects.filter(action="talent.tier_create", object_id=str(tier.pk)).exists()
    for outsider in (cast.handler_a, cast.steward_a, cast.ent_user_a1, scene.talent_head, cast.sysadmin):
        with pytest.raises(NotAllowed):
            services.save_tier(cast.zone_a, by=outsider, code="G", name="其他")
    with pytest.raises(NotAllowed):  # another zone's tiers are not zone A's leader's
        services.save_tier(cast.zone_b, by=cast.leader_a, code="A", name="顶尖人才")
    with pytest.raises(InvalidField) as refused:
        services.save_tier(cast.zone_a, by=cast.leader_a, code="A", name="重复")
    assert refused.value.field == "code" and "已有类别 A" in str(refused.value)


def test_a_tier_edit_with_a_stale_version_is_refused(scene):
    tier = scene.tiers["E"]
    leader = scene.cast.leader_a
    services.save_tier(tier.zone, by=leader, code="E", name="基础人才（新）", tier=tier, version=1)
    assert tier.version == 2
    with pytest.raises(Conflict):
        services.save_tier(tier.zone, by=leader, code="E", name="又改", tier=tier, version=1)


def test_a_route_names_a_department_of_the_zone(scene):
    cast = scene.cast
    route = services.set_route(
        cast.zone_a, kind=RouteKind.HOUSING, department=scene.hr_a, workdays=8, by=cast.leader_a
    )
    assert (route.department_id, route.workdays, route.version) == (scene.hr_a.pk, 8, 2)
    with pytest.raises(InvalidField) as refused:
        services.set_route(cast.zone_a, kind=RouteKind.HOUSING, department=cast.centre_b, by=cast.leader_a)
    assert refused.value.field == "department"
    with pytest.raises(InvalidField):
        services.set_route(
            cast.zone_a, kind=RouteKind.HOUSING, department=scene.hr_a, workdays=0, by=cast.leader_a
        )
    with pytest.raises(NotAllowed):
        services.set_route(cast.zone_a, kind=RouteKind.HOUSING, department=scene.hr_a, by=cast.handler_a)


# --- needs ----------------------------------------------------------------------------------------------


def test_needs_are_written_by_the_enterprise_and_its_steward_only(scene):
    cast = scene.cast
    by_date = date.today() + timedelta(days=30)
    need = services.add_need(cast.ent_a1, by=cast.ent_user_a1, post="工艺工程师", count="3", by_date=by_date)
    assert (need.post, need.count, need.status) == ("工艺工程师", 3, NeedStatus.OPEN)
    services.add_need(cast.ent_a1, by=cast.steward_a, post="质量主管", count=1, by_date=by_date)
    for outsider in (cast.steward_a2, cast.steward_b, cast.handler_a, cast.leader_a):
        with pytest.raises(NotAllowed):
            services.add_need(cast.ent_a1, by=outsider, post="岗位", count=1, by_date=by_date)
    with pytest.raises(InvalidField) as refused:
        services.add_need(cast.ent_a1, by=cast.ent_user_a1, post="岗位", count=0, by_date=by_date)
    assert refused.value.field == "count" and "人数" in str(refused.value)
    with pytest.raises(InvalidField) as refused:
        services.add_need(cast.ent_a1, by=cast.ent_user_a1, post="岗位", count=1, by_date=date(2020, 1, 1))
    assert refused.value.field == "by_date"
    services.close_need(need, status=NeedStatus.FILLED, by=cast.ent_user_a1, version=1)
    assert TalentNeed.objects.get(pk=need.pk).status == NeedStatus.FILLED
    with pytest.raises(ServiceError):
        services.close_need(need, status=NeedStatus.WITHDRAWN, by=cast.ent_user_a1)


# --- applications ---------------------------------------------------------------------------------------


def test_an_application_is_routed_to_the_talent_office_with_its_documents(scene, store):
    cast = scene.cast
    application = services.submit_application(
        cast.ent_a1,
        by=cast.ent_user_a1,
        person_name="陈思远",
        id_number=ID_3,
        phone="13951230003",
        tier=scene.tiers["D"],
        files=[pdf(), pdf("职称证书.pdf")],
    )
    assert application.department_id == scene.hr_a.pk
    assert application.status == ApplicationStatus.SUBMITTED
    names = list(TalentDocument.objects.filter(application=application).values_list("name", flat=True))
    assert names == ["学位证书.pdf", "职称证书.pdf"]
    entry = AuditRecord.objects.get(action="talent.application_submit", object_id=str(application.pk))
    assert ID_3 not in str(entry.detail) and ID_3 not in entry.summary


def test_an_application_refuses_a_wrong_id_number_a_wrong_phone_and_another_zones_tier(scene):
    cast = scene.cast
    common = {"by": cast.ent_user_a1, "person_name": "王振宇", "tier": scene.tiers["C"]}
    with pytest.raises(InvalidField) as refused:
        services.submit_application(cast.ent_a1, id_number=BAD_ID, phone="13951230004", **common)
    assert refused.value.field == "id_number" and "身份证号" in str(refused.value)
    with pytest.raises(InvalidField) as refused:
        services.submit_application(cast.ent_a1, id_number=ID_3, phone="0512-1234", **common)
    assert refused.value.field == "phone"
    b_tier = services.save_tier(cast.zone_b, by=make_leader_b(cast), code="A", name="顶尖人才")
    with pytest.raises(InvalidField) as refused:
        services.submit_application(
            cast.ent_a1,
            by=cast.ent_user_a1,
            person_name="王振宇",
            id_number=ID_3,
            phone="13951230004",
            tier=b_tier,
        )
    assert refused.value.field == "tier"
    with pytest.raises(NotAllowed):
        services.submit_application(cast.ent_a2, id_number=ID_3, phone="13951230004", **common)
    assert TalentApplication.objects.count() == 2  # the scene's two


def make_leader_b(cast):
    from guanjia.core.roles import Role
    from guanjia.testing import make_user

    return make_user("leader_b", cast.zone_b, Role.LEADER)


def test_an_application_without_a_talent_office_is_refused(cast):
    tier = services.save_tier(cast.zone_a, by=cast.leader_a, code="A", name="顶尖人才")
    with pytest.raises(ServiceError) as refused:
        services.submit_application(
            cast.ent_a1,
            by=cast.ent_user_a1,
            person_name="张三",
            id_number=ID_3,
            phone="13951230005",
            tier=tier,
        )
    assert "尚未设置人才认定部门" in str(refused.value)


def test_only_the_talent_office_decides_and_a_rejection_needs_its_reason(scene):
    cast, application = scene.cast, scene.submitted
    for outsider in (cast.handler_a, cast.leader_a, cast.supervisor_a, cast.steward_a, cast.ent_user_a1):
        with pytest.raises(NotAllowed):
            services.decide_application(application, by=outsider, approve=True)
    with pytest.raises(InvalidField) as refused:
        services.decide_application(application, by=scene.talent_head, approve=False, reason=" ")
    assert refused.value.field == "reason" and "未通过原因" in str(refused.value)
    with pytest.raises(Conflict):
        services.decide_application(application, by=scene.talent_head, approve=True, version=7)
    services.decide_application(
        application, by=scene.talent_head, approve=False, reason="材料不全", version=1
    )
    stored = TalentApplication.objects.get(pk=application.pk)
    assert (stored.status, stored.reason, stored.decided_by, stored.version) == (
        ApplicationStatus.REJECTED,
        "材料不全",
        scene.talent_head,
        2,
    )
    note = Notification.objects.get(user=cast.ent_user_a1, title__contains="李明哲")
    assert "未通过" in note.title and note.link == f"/talent/applications/{application.pk}/"
    with pytest.raises(ServiceError):  # decided once: never again
        services.decide_application(stored, by=scene.talent_head, approve=True)


def test_id_numbers_and_phones_are_masked_but_for_the_deciding_department_and_the_enterprise(scene):
    cast, application = scene.cast, scene.approved
    for full in (scene.talent_handler, scene.talent_head, cast.ent_user_a1):
        assert access.id_number_shown(full, application) == "11010519491231002X"
        assert access.phone_shown(full, application) == "13951230001"
    for masked in (cast.steward_a, cast.leader_a, cast.supervisor_a, cast.handler_a):
        assert access.id_number_shown(masked, application) == "110*************2X"
        assert access.phone_shown(masked, application) == "139****0001"


# --- services and their deadlines -----------------------------------------------------------------------


def test_a_service_is_due_on_the_fifth_working_day_holidays_and_make_up_saturdays_counted(scene):
    # Thursday 30 April 2026: 1–5 May are the Labour Day holiday and Saturday 9 May a working day, so
    # the 5 working days are 6, 7, 8, 9 and 11 May; the deadline is 24:00 of Monday 11 May.
    asked = datetime(2026, 4, 30, 10, 0, tzinfo=BEIJING)
    service = services.request_service(
        scene.approved, kind=ServiceKind.HOUSING, by=scene.cast.ent_user_a1, at=asked
    )
    assert service.department_id == scene.cast.market_a.pk
    assert service.workdays == 5
    assert service.due_day == date(2026, 5, 11)
    assert service.due_at == datetime(2026, 5, 12, 0, 0, tzinfo=BEIJING)
    assert not service.provisional
    assert not service.is_overdue(datetime(2026, 5, 11, 23, 59, tzinfo=BEIJING))
    assert service.is_overdue(datetime(2026, 5, 12, 0, 0, tzinfo=BEIJING))


def test_a_routes_working_days_set_the_deadline(scene):
    cast = scene.cast
    services.set_route(
        cast.zone_a, kind=RouteKind.MEDICAL, department=cast.market_a, workdays=3, by=cast.leader_a
    )
    # Monday 2 March 2026, an ordinary week: 3 working days later is Thursday 5 March.
    asked = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)
    service = services.request_service(scene.approved, kind=ServiceKind.MEDICAL, by=cast.steward_a, at=asked)
    assert (service.workdays, service.due_day) == (3, date(2026, 3, 5))


def test_a_service_is_only_for_an_approved_talent_of_ones_own_enterprise(scene):
    cast = scene.cast
    with pytest.raises(InvalidField) as refused:
        services.request_service(scene.submitted, kind=ServiceKind.HOUSING, by=cast.ent_user_a1)
    assert refused.value.field == "application"
    for outsider in (cast.steward_a2, cast.steward_b, cast.handler_a, cast.leader_a):
        with pytest.raises(NotAllowed):
            services.request_service(scene.approved, kind=ServiceKind.HOUSING, by=outsider)
    services.request_service(scene.approved, kind=ServiceKind.HOUSING, by=cast.ent_user_a1)
    with pytest.raises(InvalidField) as refused:  # the same service twice while the first is open
        services.request_service(scene.approved, kind=ServiceKind.HOUSING, by=cast.ent_user_a1)
    assert refused.value.field == "kind"
    with pytest.raises(InvalidField):
        services.request_service(scene.approved, kind="car", by=cast.ent_user_a1)


def test_the_responsible_department_grants_and_the_enterprise_is_told(scene):
    cast = scene.cast
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING), tick=False):
        service = services.request_service(scene.approved, kind=ServiceKind.SCHOOLING, by=cast.ent_user_a1)
        # The department's people are told that it is theirs.
        assert Notification.objects.filter(
            user=cast.handler_a, link=f"/talent/services/{service.pk}/"
        ).exists()
    with time_machine.travel(datetime(2026, 3, 4, 15, 0, tzinfo=BEIJING), tick=False):
        for outsider in (scene.talent_handler, cast.leader_a, cast.ent_user_a1, cast.steward_a):
            with pytest.raises(NotAllowed):
                services.decide_service(service, by=outsider, grant=True, result="已安排")
        with pytest.raises(InvalidField) as refused:
            services.decide_service(service, by=cast.handler_a, grant=True, result="")
        assert refused.value.field == "result"
        services.decide_service(
            service, by=cast.handler_a, grant=True, result="已安排入读区实验小学", version=1
        )
    stored = TalentService.objects.get(pk=service.pk)
    assert (stored.status, stored.result, stored.decided_by) == (
        ServiceStatus.GRANTED,
        "已安排入读区实验小学",
        cast.handler_a,
    )
    assert not stored.is_overdue()  # decided on 4 March, due 9 March
    note = Notification.objects.get(user=cast.ent_user_a1, title__contains="子女入学")
    assert "已办结" in note.title and note.link == "/portal/talent/"
    assert AuditRecord.objects.filter(action="talent.service_decide", object_id=str(service.pk)).count() == 1


def test_a_decline_needs_its_reason_and_a_late_decision_stays_overdue(scene):
    cast = scene.cast
    asked = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)
    service = services.request_service(
        scene.approved, kind=ServiceKind.SETTLEMENT, by=cast.ent_user_a1, at=asked
    )
    with pytest.raises(InvalidField) as refused:
        services.decide_service(service, by=cast.handler_a, grant=False)
    assert refused.value.field == "reason"
    with time_machine.travel(datetime(2026, 3, 12, 9, 0, tzinfo=BEIJING), tick=False):
        services.decide_service(service, by=cast.handler_a, grant=False, reason="户籍政策不符")
    stored = TalentService.objects.get(pk=service.pk)
    assert (stored.status, stored.reason) == (ServiceStatus.DECLINED, "户籍政策不符")
    assert stored.is_overdue()  # due 9 March, decided 12 March
    with pytest.raises(ServiceError):
        services.decide_service(stored, by=cast.handler_a, grant=True, result="再次办理")


def test_the_worklist_puts_the_overdue_first(scene):
    cast = scene.cast
    recent = services.request_service(
        scene.approved,
        kind=ServiceKind.HOUSING,
        by=cast.ent_user_a1,
        at=datetime(2026, 3, 9, 9, 0, tzinfo=BEIJING),
    )
    older = services.request_service(
        scene.approved,
        kind=ServiceKind.MEDICAL,
        by=cast.ent_user_a1,
        at=datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING),
    )
    applications, due = services.worklist(cast.handler_a)
    assert [s.pk for s in due] == [older.pk, recent.pk]
    assert list(applications) == []  # the applications are the talent office's
    applications, due = services.worklist(scene.talent_handler)
    assert [a.pk for a in applications] == [scene.submitted.pk] and due == []
    applications, due = services.worklist(cast.leader_a)  # a leader reads the figures, decides nothing
    assert not applications.exists() and due == []


# --- scoping ----------------------------------------------------------------------------------------------


def test_each_reads_only_its_own(scene):
    cast = scene.cast
    service = services.request_service(scene.approved, kind=ServiceKind.HOUSING, by=cast.ent_user_a1)
    for reader in (cast.ent_user_a1, cast.steward_a, cast.leader_a, cast.leader_city, cast.supervisor_a):
        assert list(TalentApplication.objects.visible_to(reader).order_by("pk")) == [
            scene.approved,
            scene.submitted,
        ]
        assert list(TalentService.objects.visible_to(reader)) == [service]
    assert list(TalentApplication.objects.visible_to(scene.talent_handler).order_by("pk")) == [
        scene.approved,
        scene.submitted,
    ]
    assert list(TalentService.objects.visible_to(scene.talent_handler)) == []  # routed elsewhere
    assert list(TalentService.objects.visible_to(cast.handler_a)) == [service]
    assert list(TalentApplication.objects.visible_to(cast.handler_a)) == []
    for outsider in (cast.steward_a2, cast.steward_b, cast.dispatcher_a, cast.promoter_a, cast.outsider):
        assert not TalentApplication.objects.visible_to(outsider).exists()
        assert not TalentService.objects.visible_to(outsider).exists()
    for admin in (cast.sysadmin, cast.secadmin, cast.auditor):
        assert not TalentApplication.objects.visible_to(admin).exists()
        assert not TalentNeed.objects.visible_to(admin).exists()
