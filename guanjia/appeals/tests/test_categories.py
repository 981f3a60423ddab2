import pytest
from django.urls import reverse

from guanjia.appeals import services
from guanjia.appeals.defaults import DEFAULT_CATEGORIES, ensure_default_categories
from guanjia.appeals.models import AppealCategory, CategoryRoute, Handling
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, OrgUnit


@pytest.fixture
def land(db) -> AppealCategory:
    return ensure_default_categories()["land"]


def test_default_tree_has_the_design_time_limits(land):
    assert AppealCategory.objects.filter(parent__isnull=True).count() == len(DEFAULT_CATEGORIES) == 12
    assert (land.accept_days, land.sign_days, land.extension_max_days) == (1, 1, 30)
    assert land.answer_days(Handling.CONSULT, urgent=False) == 3
    assert land.answer_days(Handling.NORMAL, urgent=False) == 5
    assert land.answer_days(Handling.COMPLEX, urgent=False) == 15
    assert land.answer_days(Handling.COMPLEX, urgent=True) == 1


def test_routes_resolve_through_the_parent(cast, land):
    services.set_route(land, cast.zone_a, cast.market_a, by=cast.sysadmin)
    child = services.save_category(
        {"name": "容积率调整", "code": "land-far", "parent": land, "position": 1}, by=cast.sysadmin
    )
    assert services.default_department(child, cast.zone_a) == cast.market_a
    assert services.default_department(child, cast.zone_b) is None
    services.set_route(child, cast.zone_a, cast.centre_a, by=cast.sysadmin)
    assert services.default_department(child, cast.zone_a) == cast.centre_a
    assert services.default_department(land, cast.zone_a) == cast.market_a


def test_a_route_must_stay_inside_its_zone(cast, land):
    with pytest.raises(ServiceError, match="不是高新区的部门"):
        services.set_route(land, cast.zone_a, cast.centre_b, by=cast.sysadmin)
    with pytest.raises(ServiceError, match="不是园区或县区"):
        services.set_route(land, cast.city, cast.market_a, by=cast.sysadmin)
    assert not CategoryRoute.objects.exists()


def test_category_edits_are_checked_and_audited(cast, land, login):
    client = login(cast.sysadmin)
    data = {
        "name": "用地规划",
        "code": "land",
        "position": 10,
        "is_active": "on",
        "accept_days": 1,
        "sign_days": 1,
        "answer_days_consult": 3,
        "answer_days_normal": 7,
        "answer_days_complex": 20,
        "answer_days_urgent": 1,
        "extension_max_days": 30,
    }
    assert client.post(reverse("appeals:category-edit", args=[land.pk]), data).status_code == 302
    land.refresh_from_db()
    assert land.answer_days(Handling.NORMAL, urgent=False) == 7
    assert AuditRecord.objects.filter(action="appeal_category.update", object_id=str(land.pk)).exists()

    bad = {**data, "answer_days_normal": 0, "extension_max_days": 90}
    page = client.post(reverse("appeals:category-edit", args=[land.pk]), bad).content.decode()
    assert "答复时限·一般" in page and "延期上限" in page
    land.refresh_from_db()
    assert land.answer_days_normal == 7

    with pytest.raises(ServiceError, match="已被使用"):
        services.save_category({**data, "code": "tax", "parent": None}, category=land, by=cast.sysadmin)
    child = services.save_category({"name": "子类", "code": "land-sub", "parent": land}, by=cast.sysadmin)
    with pytest.raises(ServiceError, match="上级类别不能是它自己"):
        services.save_category(
            {"name": "用地规划", "code": "land", "parent": child}, category=land, by=cast.sysadmin
        )


def test_routing_page_for_the_admin_and_the_zones_staff(cast, land, login):
    client = login(cast.sysadmin)
    response = client.post(
        reverse("appeals:route-set"),
        {"zone": cast.zone_a.pk, "category": land.pk, "lead_department": cast.market_a.pk},
    )
    assert response.status_code == 302
    route = CategoryRoute.objects.get(zone=cast.zone_a, category=land)
    assert AuditRecord.objects.filter(action="appeal_route.set").exists()

    page = login(cast.dispatcher_a).get(reverse("appeals:categories")).content.decode()
    assert "高新区市场监管局" in page and "经开区" not in page  # its own zone's table only
    assert "设置分派规则" not in page  # read-only for the zone's staff

    for who in ("dispatcher_a", "supervisor_a", "leader_a"):
        denied = login(getattr(cast, who)).post(
            reverse("appeals:route-set"),
            {"zone": cast.zone_a.pk, "category": land.pk, "lead_department": cast.centre_a.pk},
        )
        assert denied.status_code == 403, who
    for who in ("steward_a", "handler_a", "ent_user_a1", "secadmin", "auditor", "outsider"):
        assert login(getattr(cast, who)).get(reverse("appeals:categories")).status_code == 403, who
    assert login(cast.leader_a).post(reverse("appeals:route-remove", args=[route.pk])).status_code == 403
    client.post(reverse("appeals:route-remove", args=[route.pk]))
    assert not CategoryRoute.objects.exists()


def test_only_the_system_admin_changes_configuration(cast, land):
    for actor in (cast.dispatcher_a, cast.supervisor_a, cast.leader_city, cast.secadmin):
        with pytest.raises(NotAllowed):
            services.set_route(land, cast.zone_a, cast.market_a, by=actor)
        with pytest.raises(NotAllowed):
            services.save_category({"name": "x", "code": "x"}, by=actor)


def test_demo_data_routes_every_default_category_in_each_zone(db):
    from io import StringIO

    from django.core.management import call_command

    call_command("demo_data", "--enterprises", "20", stdout=StringIO())
    zones = OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE)
    assert zones.count() == 2
    for zone in zones:
        routed = CategoryRoute.objects.filter(zone=zone)
        assert routed.count() == 12
        assert all(r.lead_department.parent_id == zone.pk for r in routed.select_related("lead_department"))


def test_api_lists_limits_and_only_the_callers_routes(cast, land, login):
    services.set_route(land, cast.zone_a, cast.market_a, by=cast.sysadmin)
    tax = ensure_default_categories()["tax"]
    services.set_route(tax, cast.zone_b, cast.centre_b, by=cast.sysadmin)
    body = login(cast.dispatcher_a).get("/api/appeal-categories/").json()
    by_code = {c["code"]: c for c in body}
    assert by_code["land"]["answer_days_complex"] == 15
    assert [r["lead_department_name"] for r in by_code["land"]["routes"]] == ["高新区市场监管局"]
    assert by_code["tax"]["routes"] == []  # zone B's route is not zone A's business
    assert len(login(cast.sysadmin).get(f"/api/appeal-categories/{tax.pk}/").json()["routes"]) == 1
    for who in ("ent_user_a1", "secadmin", "auditor", "outsider"):
        assert login(getattr(cast, who)).get("/api/appeal-categories/").status_code == 403, who
    assert login(cast.dispatcher_a).post("/api/appeal-categories/", {"name": "x"}).status_code == 405
