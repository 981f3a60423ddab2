"""The staff and roster API: the keeper adds and changes staff, generates a week, adjusts and publishes it;
a stale version is a 409, a refused field a 400 naming it; readers read, and get 403 on a write; another
zone's keeper gets 404 and enterprise users 403."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from guanjia.windows import rosters
from guanjia.windows.models import Roster, Shift, Staffing
from guanjia.windows.tests.roster_helpers import NOW, TUESDAY, WEEK, build_scene, other_zone_unit

pytestmark = pytest.mark.django_db

STAFFINGS = "/api/staffings/"
ROSTERS = "/api/rosters/"


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def scene(cast):
    return build_scene(cast)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_keeper_adds_lists_and_changes_staff(scene, cast):
    client = api(scene.head)
    created = client.post(
        STAFFINGS,
        {
            "unit": scene.unit.pk,
            "user": cast.steward_a.pk,
            "windows": [scene.window.pk],
            "weekdays": [1, 2],
            "max_shifts": 2,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["weekdays"], body["windows"], body["max_shifts"]) == ([1, 2], [scene.window.pk], 2)

    listed = client.get(STAFFINGS, {"unit": scene.unit.pk}).json()
    assert len(listed["results"]) == 4

    patched = client.patch(
        f"{STAFFINGS}{body['id']}/", {"max_shifts": 3, "version": body["version"]}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["max_shifts"] == 3
    stale = client.patch(
        f"{STAFFINGS}{body['id']}/", {"max_shifts": 4, "version": body["version"]}, format="json"
    )
    assert stale.status_code == 409
    assert Staffing.objects.get(pk=body["id"]).max_shifts == 3


def test_a_refused_staff_field_is_a_400_naming_it(scene, cast):
    response = api(scene.head).post(
        STAFFINGS,
        {
            "unit": scene.unit.pk,
            "user": cast.ent_user_a1.pk,
            "windows": [scene.window.pk],
            "weekdays": [1],
            "max_shifts": 2,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "user" in response.json()


def test_readers_read_staff_but_cannot_write(scene, cast):
    for who in (cast.handler_a, cast.leader_a):
        client = api(who)
        assert client.get(STAFFINGS, {"unit": scene.unit.pk}).status_code == 200
        staffing = Staffing.objects.filter(unit=scene.unit).first()
        assert staffing is not None
        assert (
            client.patch(
                f"{STAFFINGS}{staffing.pk}/", {"max_shifts": 1, "version": 1}, format="json"
            ).status_code
            == 403
        )


def test_the_keeper_generates_adjusts_and_publishes_a_week(scene):
    client = api(scene.head)
    generated = client.post(
        f"{ROSTERS}generate/", {"unit": scene.unit.pk, "week_start": WEEK.isoformat()}, format="json"
    )
    assert generated.status_code == 201, generated.json()
    body = generated.json()
    assert body["status"] == "draft" and body["shortages"] == [] and body["shifts"]

    tuesday = next(s for s in body["shifts"] if s["day"] == TUESDAY.isoformat())
    removed = client.post(
        f"{ROSTERS}{body['id']}/remove-shift/",
        {"shift": tuesday["id"], "version": body["version"]},
        format="json",
    )
    assert removed.status_code == 200
    after = removed.json()
    assert after["shortages"] and all(row["date"] == TUESDAY.isoformat() for row in after["shortages"])
    assert "缺 1 人" in after["shortages"][0]["text"]

    restored = client.post(
        f"{ROSTERS}{body['id']}/shifts/",
        {
            "user": tuesday["user"],
            "day": TUESDAY.isoformat(),
            "window": scene.window.pk,
            "lunch_start": tuesday["lunch_start"],
            "version": after["version"],
        },
        format="json",
    )
    assert restored.status_code == 200, restored.json()
    assert restored.json()["shortages"] == []

    stale = client.post(f"{ROSTERS}{body['id']}/publish/", {"version": after["version"]}, format="json")
    assert stale.status_code == 409
    published = client.post(
        f"{ROSTERS}{body['id']}/publish/", {"version": restored.json()["version"]}, format="json"
    )
    assert published.status_code == 200 and published.json()["status"] == "published"

    again = client.post(
        f"{ROSTERS}generate/", {"unit": scene.unit.pk, "week_start": WEEK.isoformat()}, format="json"
    )
    assert again.status_code == 400
    assert "已发布的排班表不能重新生成" in str(again.json())


def test_refused_shift_fields_are_400s(scene):
    roster = rosters.generate_roster(scene.unit, WEEK, by=scene.head)
    client = api(scene.head)
    monday = client.post(
        f"{ROSTERS}generate/", {"unit": scene.unit.pk, "week_start": TUESDAY.isoformat()}, format="json"
    )
    assert monday.status_code == 400 and "周一日期须为星期一" in str(monday.json())
    lunch = client.post(
        f"{ROSTERS}{roster.pk}/shifts/",
        {
            "user": scene.staff[0].pk,
            "day": TUESDAY.isoformat(),
            "window": scene.window.pk,
            "lunch_start": "15:00",
            "version": roster.version,
        },
        format="json",
    )
    assert lunch.status_code == 400 and "lunch_start" in lunch.json()
    missing = client.post(
        f"{ROSTERS}{roster.pk}/remove-shift/", {"shift": 2**40, "version": roster.version}, format="json"
    )
    assert missing.status_code == 400 and "shift" in missing.json()


def test_list_filters_and_scope(scene, cast):
    roster = rosters.generate_roster(scene.unit, WEEK, by=scene.head)
    reader = api(cast.supervisor_a)
    assert [
        r["id"]
        for r in reader.get(ROSTERS, {"unit": scene.unit.pk, "week_start": WEEK.isoformat()}).json()[
            "results"
        ]
    ] == [roster.pk]
    assert reader.get(ROSTERS, {"unit": "1.5"}).status_code == 400
    detail = reader.get(f"{ROSTERS}{roster.pk}/").json()
    assert len(detail["shifts"]) == Shift.objects.filter(roster=roster).count()
    assert (
        reader.post(f"{ROSTERS}{roster.pk}/publish/", {"version": roster.version}, format="json").status_code
        == 403
    )

    _unit, head_b = other_zone_unit(cast)
    outsider = api(head_b)
    assert outsider.get(f"{ROSTERS}{roster.pk}/").status_code == 404
    assert (
        outsider.post(
            f"{ROSTERS}{roster.pk}/publish/", {"version": roster.version}, format="json"
        ).status_code
        == 404
    )
    assert outsider.get(ROSTERS).json()["results"] == []
    assert (
        outsider.post(
            f"{ROSTERS}generate/", {"unit": scene.unit.pk, "week_start": WEEK.isoformat()}, format="json"
        ).status_code
        == 400
    )
    assert api(cast.ent_user_a1).get(ROSTERS).status_code == 403
    assert api(cast.sysadmin).get(STAFFINGS).status_code == 403
    assert Roster.objects.get(pk=roster.pk).status == Roster.Status.DRAFT
