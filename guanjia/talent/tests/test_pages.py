"""The talent pages: the portal and its forms, the worklist and the figures, the detail pages with their
decide forms, the settings, masking on the pages, and who may not (403 / 404)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from guanjia.talent import services
from guanjia.talent.models import (
    ApplicationStatus,
    ServiceKind,
    ServiceStatus,
    TalentApplication,
    TalentDocument,
    TalentNeed,
    TalentService,
    TalentServiceRoute,
    TalentTier,
)
from guanjia.talent.tests.scene import ID_3, build_scene, pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(cast):
    return build_scene(cast)


def test_the_portal_shows_the_enterprises_own_and_not_anothers(scene, login):
    cast = scene.cast
    services.request_service(scene.approved, kind=ServiceKind.MEDICAL, by=cast.ent_user_a1, note="家属就医")
    page = login(cast.ent_user_a1).get("/portal/talent/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "张博文" in text and "李明哲" in text and "医疗绿色通道" in text
    assert "人才服务" in text  # the navigation item
    assert "张博文" not in login(cast.steward_b).get("/portal/talent/").content.decode()
    for never in (cast.handler_a, cast.leader_a, cast.sysadmin, cast.outsider):
        assert login(never).get("/portal/talent/").status_code == 403


def test_a_need_is_added_and_closed_from_the_portal(scene, login):
    cast = scene.cast
    client = login(cast.ent_user_a1)
    later = (date.today() + timedelta(days=30)).isoformat()
    added = client.post(
        "/portal/talent/needs/new/",
        {"enterprise": cast.ent_a1.pk, "post": "测试工程师", "count": 2, "by_date": later},
    )
    assert added.status_code == 302
    need = TalentNeed.objects.get(post="测试工程师")
    refused = client.post(
        "/portal/talent/needs/new/",
        {"enterprise": cast.ent_a1.pk, "post": "x", "count": 1, "by_date": "2020-01-01"},
    )
    assert refused.status_code == 200 and "需求时间" in refused.content.decode()
    assert (
        login(cast.steward_b)
        .post(f"/portal/talent/needs/{need.pk}/close/", {"status": "filled", "version": 1})
        .status_code
        == 404
    )
    assert (
        client.post(
            f"/portal/talent/needs/{need.pk}/close/", {"status": "withdrawn", "version": 1}
        ).status_code
        == 302
    )
    assert TalentNeed.objects.get(pk=need.pk).status == "withdrawn"


def test_an_application_with_documents_from_the_portal(scene, login, settings, tmp_path):
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    cast = scene.cast
    client = login(cast.ent_user_a1)
    body = {
        "enterprise": cast.ent_a1.pk,
        "person_name": "陈思远",
        "id_number": ID_3,
        "phone": "13951230003",
        "tier": scene.tiers["D"].pk,
    }
    answer = client.post("/portal/talent/applications/new/", {**body, "documents": [pdf()]})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    application = TalentApplication.objects.get(person_name="陈思远")
    document = TalentDocument.objects.get(application=application)
    download = client.get(f"/talent/applications/{application.pk}/documents/{document.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert (
        login(cast.steward_b)
        .get(f"/talent/applications/{application.pk}/documents/{document.pk}/")
        .status_code
        == 404
    )
    bad = client.post("/portal/talent/applications/new/", {**body, "id_number": "320582199007182027"})
    assert bad.status_code == 200 and "身份证号" in bad.content.decode()


def test_the_talent_office_decides_on_the_application_page_and_sees_the_id_in_full(scene, login):
    cast = scene.cast
    url = f"/talent/applications/{scene.submitted.pk}/"
    office = login(scene.talent_handler)
    page = office.get(url).content.decode()
    assert "320582198503124017" in page and 'data-testid="decide-form"' in page
    steward_page = login(cast.steward_a).get(url).content.decode()
    assert "320582198503124017" not in steward_page and "320*************17" in steward_page
    assert 'data-testid="decide-form"' not in steward_page
    assert login(cast.steward_b).get(url).status_code == 404
    assert login(cast.handler_a).get(url).status_code == 404
    assert login(cast.promoter_a).get(url).status_code == 403
    refused = office.post(f"{url}decide/", {"decision": "reject", "reason": "", "version": 1})
    assert refused.status_code == 200 and "未通过原因" in refused.content.decode()
    assert (
        login(cast.handler_a).post(f"{url}decide/", {"decision": "approve", "version": 1}).status_code == 404
    )
    assert (
        login(cast.leader_a).post(f"{url}decide/", {"decision": "approve", "version": 1}).status_code == 403
    )
    assert office.post(f"{url}decide/", {"decision": "approve", "version": 1}).status_code == 302
    assert TalentApplication.objects.get(pk=scene.submitted.pk).status == ApplicationStatus.APPROVED


def test_a_service_is_asked_for_on_the_portal_and_granted_on_its_page(scene, login):
    cast = scene.cast
    portal = login(cast.ent_user_a1)
    form = portal.get("/portal/talent/services/new/").content.decode()
    assert "张博文" in form and "李明哲" not in form  # approved talent only
    assert (
        portal.post(
            "/portal/talent/services/new/", {"application": scene.submitted.pk, "kind": "housing"}
        ).status_code
        == 200
    )
    assert (
        portal.post(
            "/portal/talent/services/new/",
            {"application": scene.approved.pk, "kind": "housing", "note": "两居室"},
        ).status_code
        == 302
    )
    service = TalentService.objects.get()
    worklist = login(cast.handler_a).get("/talent/").content.decode()
    assert f"/talent/services/{service.pk}/" in worklist
    url = f"/talent/services/{service.pk}/"
    assert login(scene.talent_handler).get(url).status_code == 404
    assert (
        login(scene.talent_handler)
        .post(f"{url}decide/", {"decision": "grant", "result": "x", "version": 1})
        .status_code
        == 404
    )
    refused = login(cast.handler_a).post(f"{url}decide/", {"decision": "grant", "result": "", "version": 1})
    assert refused.status_code == 200 and "办理结果" in refused.content.decode()
    stale = login(cast.handler_a).post(
        f"{url}decide/", {"decision": "grant", "result": "人才公寓", "version": 3}
    )
    assert stale.status_code == 200 and "刚被他人修改" in stale.content.decode()
    done = login(cast.handler_a).post(
        f"{url}decide/", {"decision": "grant", "result": "人才公寓 3-201", "version": 1}
    )
    assert done.status_code == 302
    assert TalentService.objects.get().status == ServiceStatus.GRANTED
    assert "人才公寓 3-201" in portal.get("/portal/talent/").content.decode()


def test_the_overview_shows_the_figures_to_leaders_and_the_worklist_is_refused_to_others(scene, login):
    cast = scene.cast
    page = login(cast.leader_a).get("/talent/").content.decode()
    assert 'data-testid="enterprise-counts"' in page and cast.ent_a1.name in page
    assert 'data-testid="due-services"' not in page
    for never in (cast.ent_user_a1, cast.steward_a, cast.dispatcher_a, cast.promoter_a, cast.auditor):
        assert login(never).get("/talent/").status_code == 403
    # The navigation shows 人才绿色通道 to a department a route names, not to another one.
    assert "人才绿色通道" in login(scene.talent_handler).get("/").content.decode()
    TalentServiceRoute.objects.filter(department=cast.market_a).delete()
    assert "人才绿色通道" not in login(cast.handler_a).get("/").content.decode()


def test_the_settings_are_the_overseers(scene, login):
    cast = scene.cast
    client = login(cast.supervisor_a)
    page = client.get("/talent/settings/").content.decode()
    assert "顶尖人才" in page and "高新区人力资源和社会保障局" in page
    assert (
        client.post(
            "/talent/settings/tiers/",
            {"zone": cast.zone_a.pk, "code": "F", "name": "青年人才", "position": 6},
        ).status_code
        == 302
    )
    assert TalentTier.objects.filter(zone=cast.zone_a, code="F").exists()
    tier = scene.tiers["E"]
    edit = {
        "zone": cast.zone_a.pk,
        "tier": tier.pk,
        "version": 1,
        "code": "E",
        "name": "基础人才（改）",
        "position": 5,
    }
    assert client.post("/talent/settings/tiers/", edit).status_code == 302
    assert TalentTier.objects.get(pk=tier.pk).name == "基础人才（改）"
    stale = client.post("/talent/settings/tiers/", edit)
    assert stale.status_code == 200 and "刚被他人修改" in stale.content.decode()
    route = {
        "route-zone": cast.zone_a.pk,
        "route-kind": "medical",
        "route-department": scene.hr_a.pk,
        "route-workdays": 3,
    }
    assert client.post("/talent/settings/routes/", route).status_code == 302
    assert TalentServiceRoute.objects.get(zone=cast.zone_a, kind="medical").workdays == 3
    assert (
        client.post("/talent/settings/tiers/", {"zone": cast.zone_b.pk, "code": "Z", "name": "x"}).status_code
        == 404
    )
    for never in (cast.handler_a, scene.talent_head, cast.ent_user_a1, cast.sysadmin):
        assert login(never).get("/talent/settings/").status_code == 403
