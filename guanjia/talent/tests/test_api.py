"""The talent API (/api/talent-*/): creating and deciding with versions, scoped reads, masking, the
counts, and who may not (403 for a role that never may, 404 out of scope, 409 when stale)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from rest_framework.test import APIClient

from guanjia.core.models import User
from guanjia.talent import services
from guanjia.talent.models import ServiceKind, TalentApplication, TalentNeed, TalentService
from guanjia.talent.tests.scene import ID_3, build_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(cast):
    return build_scene(cast)


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_enterprise_applies_and_the_talent_office_decides(scene):
    cast = scene.cast
    body = {
        "enterprise": cast.ent_a1.pk,
        "person_name": "陈思远",
        "id_number": ID_3,
        "phone": "13951230003",
        "tier": scene.tiers["D"].pk,
    }
    created = api(cast.ent_user_a1).post("/api/talent-applications/", body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["status"], data["id_number"], data["tier_code"]) == ("submitted", ID_3, "D")
    assert data["department"] == scene.hr_a.pk
    pk = data["id"]
    # The steward sees it masked, the talent office in full.
    assert (
        api(cast.steward_a).get(f"/api/talent-applications/{pk}/").json()["id_number"] == "320*************28"
    )
    assert api(scene.talent_head).get(f"/api/talent-applications/{pk}/").json()["phone"] == "13951230003"
    assert (
        api(cast.handler_a)
        .post(f"/api/talent-applications/{pk}/decide/", {"approve": True, "version": 1})
        .status_code
        == 404
    )
    assert (
        api(cast.leader_a)
        .post(f"/api/talent-applications/{pk}/decide/", {"approve": True, "version": 1})
        .status_code
        == 403
    )
    refused = api(scene.talent_head).post(
        f"/api/talent-applications/{pk}/decide/", {"approve": False, "version": 1}
    )
    assert refused.status_code == 400 and "reason" in refused.json()
    assert (
        api(scene.talent_head)
        .post(f"/api/talent-applications/{pk}/decide/", {"approve": True, "version": 9})
        .status_code
        == 409
    )
    decided = api(scene.talent_head).post(
        f"/api/talent-applications/{pk}/decide/", {"approve": True, "version": 1}
    )
    assert decided.status_code == 200 and decided.json()["status"] == "approved"


def test_an_application_for_another_enterprise_or_with_a_bad_id_is_refused(scene):
    cast = scene.cast
    body = {
        "enterprise": cast.ent_a2.pk,
        "person_name": "陈思远",
        "id_number": ID_3,
        "phone": "13951230003",
        "tier": scene.tiers["D"].pk,
    }
    assert api(cast.ent_user_a1).post("/api/talent-applications/", body, format="json").status_code == 400
    body["enterprise"] = cast.ent_a1.pk
    body["id_number"] = "320582199007182027"
    refused = api(cast.ent_user_a1).post("/api/talent-applications/", body, format="json")
    assert refused.status_code == 400 and "id_number" in refused.json()
    for role_never in (cast.handler_a, cast.leader_a, cast.sysadmin):
        assert api(role_never).post("/api/talent-applications/", body, format="json").status_code == 403
    assert TalentApplication.objects.count() == 2


def test_the_enterprise_asks_for_a_service_and_the_department_grants_it(scene):
    cast = scene.cast
    asked = api(cast.ent_user_a1).post(
        "/api/talent-services/",
        {"application": scene.approved.pk, "kind": "housing", "note": "两居室"},
        format="json",
    )
    assert asked.status_code == 201, asked.content
    data = asked.json()
    assert (data["status"], data["department"], data["workdays"], data["overdue"]) == (
        "requested",
        cast.market_a.pk,
        5,
        False,
    )
    pk = data["id"]
    assert api(scene.talent_handler).get(f"/api/talent-services/{pk}/").status_code == 404
    assert (
        api(scene.talent_handler)
        .post(f"/api/talent-services/{pk}/decide/", {"grant": True, "result": "x", "version": 1})
        .status_code
        == 404
    )
    assert (
        api(cast.ent_user_a1)
        .post(f"/api/talent-services/{pk}/decide/", {"grant": True, "result": "x", "version": 1})
        .status_code
        == 403
    )
    granted = api(cast.handler_a).post(
        f"/api/talent-services/{pk}/decide/",
        {"grant": True, "result": "人才公寓 3-201", "version": 1},
        format="json",
    )
    assert granted.status_code == 200 and granted.json()["result"] == "人才公寓 3-201"
    again = api(cast.handler_a).post(
        f"/api/talent-services/{pk}/decide/", {"grant": True, "result": "y", "version": 2}
    )
    assert again.status_code == 400  # decided once
    assert api(cast.ent_user_a1).get("/api/talent-services/").json()["results"][0]["status"] == "granted"


def test_a_service_for_a_talent_not_approved_is_refused(scene):
    refused = api(scene.cast.ent_user_a1).post(
        "/api/talent-services/", {"application": scene.submitted.pk, "kind": "medical"}, format="json"
    )
    assert refused.status_code == 400 and "application" in refused.json()
    assert not TalentService.objects.exists()


def test_reads_are_scoped(scene):
    cast = scene.cast
    services.request_service(scene.approved, kind=ServiceKind.MEDICAL, by=cast.ent_user_a1)
    assert api(cast.steward_b).get("/api/talent-applications/").json()["count"] == 0
    assert api(cast.steward_b).get(f"/api/talent-applications/{scene.approved.pk}/").status_code == 404
    assert api(cast.leader_a).get("/api/talent-applications/").json()["count"] == 2
    assert api(cast.handler_a).get("/api/talent-services/").json()["count"] == 1
    for never in (cast.promoter_a, cast.dispatcher_a, cast.outsider, cast.auditor, cast.secadmin):
        assert api(never).get("/api/talent-services/").status_code == 403
    assert APIClient().get("/api/talent-services/").status_code in (401, 403)


def test_needs_through_the_api(scene):
    cast = scene.cast
    later = (date.today() + timedelta(days=10)).isoformat()
    made = api(cast.steward_a).post(
        "/api/talent-needs/",
        {"enterprise": cast.ent_a1.pk, "post": "焊接技师", "count": 4, "by_date": later},
        format="json",
    )
    assert made.status_code == 201 and made.json()["count"] == 4
    pk = made.json()["id"]
    assert (
        api(cast.steward_b)
        .post(f"/api/talent-needs/{pk}/close/", {"status": "filled", "version": 1})
        .status_code
        == 404
    )
    assert (
        api(cast.ent_user_a1)
        .post(f"/api/talent-needs/{pk}/close/", {"status": "filled", "version": 5})
        .status_code
        == 409
    )
    closed = api(cast.ent_user_a1).post(f"/api/talent-needs/{pk}/close/", {"status": "filled", "version": 1})
    assert closed.status_code == 200 and closed.json()["status"] == "filled"
    assert TalentNeed.objects.get(pk=pk).version == 2
    assert scene.talent_handler and api(scene.talent_handler).get("/api/talent-needs/").json()["count"] == 1


def test_tiers_through_the_api(scene):
    cast = scene.cast
    listed = api(cast.ent_user_a1).get("/api/talent-tiers/")
    assert [t["code"] for t in listed.json()["results"]] == ["A", "B", "C", "D", "E"]
    assert api(cast.steward_b).get("/api/talent-tiers/").json()["count"] == 0
    made = api(cast.supervisor_a).post(
        "/api/talent-tiers/", {"zone": cast.zone_a.pk, "code": "F", "name": "青年人才"}
    )
    assert made.status_code == 201 and made.json()["position"] == 0
    assert (
        api(cast.ent_user_a1)
        .post("/api/talent-tiers/", {"zone": cast.zone_a.pk, "code": "G", "name": "x"})
        .status_code
        == 403
    )
    assert (
        api(cast.leader_a)
        .post("/api/talent-tiers/", {"zone": cast.zone_b.pk, "code": "G", "name": "x"})
        .status_code
        == 400
    )
    tier = scene.tiers["A"]
    edited = api(cast.leader_a).patch(
        f"/api/talent-tiers/{tier.pk}/", {"name": "顶尖人才（A类）", "version": 1}
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2
    assert (
        api(cast.leader_a).patch(f"/api/talent-tiers/{tier.pk}/", {"name": "再改", "version": 1}).status_code
        == 409
    )


def test_counts_are_for_the_zones_overseers(scene):
    cast = scene.cast
    answer = api(cast.leader_a).get("/api/talent-counts/")
    assert answer.status_code == 200
    rows = {row["name"]: row for row in answer.json()["enterprises"]}
    assert rows[cast.ent_a1.name]["applications"] == {"submitted": 1, "approved": 1, "rejected": 0}
    assert answer.json()["chains"] == []
    assert api(cast.leader_a).get("/api/talent-counts/", {"zone": cast.zone_b.pk}).status_code == 400
    for never in (cast.ent_user_a1, cast.steward_a, cast.handler_a, scene.talent_head, cast.sysadmin):
        assert api(never).get("/api/talent-counts/").status_code == 403
