"""The staff and roster pages: the keeper adds staff, generates a week, sees the grid and the gap panel,
edits a cell with HTMX and gets the gaps back at once, and publishes; readers see it all read-only;
another zone's people get 404, enterprise users 403; the staff member finds its shifts on 我的排班."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanjia.windows import rostering, rosters
from guanjia.windows.models import Roster, Shift, Staffing
from guanjia.windows.tests.roster_helpers import NOW, TUESDAY, WEEK, build_scene, other_zone_unit

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def scene(cast):
    return build_scene(cast)


@pytest.fixture
def roster(scene) -> Roster:
    return rosters.generate_roster(scene.unit, WEEK, by=scene.head)


def test_the_keeper_adds_a_staff_member_on_the_staff_page(scene, cast, login):
    client = login(scene.head)
    url = reverse("windows:staff", kwargs={"unit": scene.unit.pk})
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-testid="staffing-form"' in page.content.decode()

    response = client.post(
        url,
        {
            "user": cast.steward_a.pk,
            "windows": [scene.window.pk],
            "weekdays": ["1", "3"],
            "max_shifts": 2,
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    staffing = Staffing.objects.get(unit=scene.unit, user=cast.steward_a)
    assert staffing.weekday_numbers() == [1, 3]


def test_a_refused_staff_setting_is_shown_next_to_its_field(scene, cast, login):
    response = login(scene.head).post(
        reverse("windows:staff", kwargs={"unit": scene.unit.pk}),
        {"user": cast.steward_a.pk, "windows": [scene.window.pk], "weekdays": ["1"], "max_shifts": 9},
    )
    assert response.status_code == 200
    assert "每周最多班次" in response.content.decode()
    assert not Staffing.objects.filter(user=cast.steward_a).exists()


def test_the_keeper_edits_a_staff_member(scene, login):
    staffing = Staffing.objects.get(unit=scene.unit, user=scene.staff[1])
    url = reverse("windows:staffing-edit", kwargs={"pk": staffing.pk})
    client = login(scene.head)
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"windows": [scene.window.pk], "weekdays": ["2"], "max_shifts": 1, "version": staffing.version}
    )
    assert response.status_code == 302
    staffing.refresh_from_db()
    assert (staffing.weekdays, staffing.max_shifts, staffing.is_active) == (",2,", 1, False)


def test_readers_see_the_staff_read_only_and_cannot_post(scene, cast, login):
    url = reverse("windows:staff", kwargs={"unit": scene.unit.pk})
    for who in (cast.handler_a, cast.leader_a, cast.dispatcher_a):
        client = login(who)
        page = client.get(url)
        assert page.status_code == 200, who
        assert 'data-testid="staffing-form"' not in page.content.decode()
        assert client.post(url, {"user": cast.steward_a.pk}).status_code == 403


def test_other_zones_and_departments_get_404_enterprise_users_403(scene, cast, login):
    roster = rosters.generate_roster(scene.unit, WEEK, by=scene.head)
    _unit, head_b = other_zone_unit(cast)
    urls = [
        reverse("windows:staff", kwargs={"unit": scene.unit.pk}),
        reverse("windows:rosters", kwargs={"unit": scene.unit.pk}),
        reverse("windows:roster", kwargs={"pk": roster.pk}),
    ]
    for url in urls:
        assert login(head_b).get(url).status_code == 404
        assert login(scene.other_head).get(url).status_code == 404
        assert login(cast.steward_b).get(url).status_code == 404
        assert login(cast.ent_user_a1).get(url).status_code == 403
        assert login(cast.sysadmin).get(url).status_code == 403


def test_the_keeper_generates_a_week_from_the_rosters_page(scene, login):
    client = login(scene.head)
    url = reverse("windows:rosters", kwargs={"unit": scene.unit.pk})
    assert "生成排班" in client.get(url).content.decode()

    response = client.post(url, {"week_start": WEEK.isoformat()})

    roster = Roster.objects.get(unit=scene.unit, week_start=WEEK)
    assert response.status_code == 302 and response["Location"] == reverse(
        "windows:roster", kwargs={"pk": roster.pk}
    )
    refused = client.post(url, {"week_start": TUESDAY.isoformat()})
    assert refused.status_code == 200
    assert "周一日期须为星期一" in refused.content.decode()


def test_the_grid_shows_each_person_with_lunch_and_no_gap(scene, roster, login):
    page = login(scene.head).get(reverse("windows:roster", kwargs={"pk": roster.pk}))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-testid="shift"') == roster.shifts.count()
    assert "午休 " in html
    assert "无缺员" in html
    assert 'data-testid="shift-form"' in html and 'data-testid="publish"' in html
    assert 'hx-post="' + reverse("windows:roster-shift", kwargs={"pk": roster.pk}) + '"' in html


def test_readers_see_the_grid_without_edit_controls(scene, roster, cast, login):
    for who in (cast.handler_a, cast.supervisor_a):
        html = login(who).get(reverse("windows:roster", kwargs={"pk": roster.pk})).content.decode()
        assert 'data-testid="roster-grid"' in html
        assert 'data-testid="shift-form"' not in html
        assert 'data-testid="shift-remove"' not in html
        assert 'data-testid="publish"' not in html


def test_an_htmx_edit_returns_the_board_with_the_gaps_updated(scene, roster, login):
    client = login(scene.head)
    shift = roster.shifts.filter(date=TUESDAY).select_related("user").first()
    assert shift is not None

    removed = client.post(
        reverse("windows:roster-shift-remove", kwargs={"pk": roster.pk}),
        {"shift": shift.pk, "version": roster.version},
        **HTMX,
    )
    html = removed.content.decode()
    assert removed.status_code == 200
    assert 'id="roster-board"' in html
    assert "<html" not in html, "a fragment, not the whole page"
    assert 'data-testid="gap"' in html and "缺 1 人" in html
    fresh = Roster.objects.get(pk=roster.pk)
    assert f'data-version="{fresh.version}"' in html

    restored = client.post(
        reverse("windows:roster-shift", kwargs={"pk": roster.pk}),
        {
            "user": shift.user_id,
            "day": TUESDAY.isoformat(),
            "window": scene.window.pk,
            "lunch_start": f"{shift.lunch_start:%H:%M}",
            "version": fresh.version,
        },
        **HTMX,
    )
    html = restored.content.decode()
    assert restored.status_code == 200
    assert 'data-testid="gap"' not in html and "无缺员" in html
    assert Roster.objects.get(pk=roster.pk).shortages == []


def test_a_refused_htmx_edit_shows_the_refusal_in_the_board(scene, roster, login):
    response = login(scene.head).post(
        reverse("windows:roster-shift", kwargs={"pk": roster.pk}),
        {
            "user": scene.staff[0].pk,
            "day": TUESDAY.isoformat(),
            "window": scene.window.pk,
            "lunch_start": "12:00",
            "version": roster.version - 1,
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert "排班表已被他人修改，请刷新后重试" in response.content.decode()


def test_readers_cannot_edit_or_publish(scene, roster, cast, login):
    shift = roster.shifts.first()
    assert shift is not None
    for who in (cast.handler_a, cast.leader_a):
        client = login(who)
        assert (
            client.post(
                reverse("windows:roster-publish", kwargs={"pk": roster.pk}), {"version": roster.version}
            ).status_code
            == 403
        )
        assert (
            client.post(
                reverse("windows:roster-shift-remove", kwargs={"pk": roster.pk}), {"shift": shift.pk}
            ).status_code
            == 403
        )
    assert Shift.objects.filter(pk=shift.pk).exists()
    assert Roster.objects.get(pk=roster.pk).status == Roster.Status.DRAFT


def test_an_impossible_week_explains_itself(scene, login):
    Staffing.objects.filter(unit=scene.unit).exclude(user=scene.staff[0]).update(is_active=False)
    roster = rosters.generate_roster(scene.unit, WEEK, by=scene.head)
    assert roster.solver_status == rostering.INFEASIBLE
    html = login(scene.head).get(reverse("windows:roster", kwargs={"pk": roster.pk})).content.decode()
    assert "无法排满" in html
    assert html.count('data-testid="gap"') == len(roster.shortages)


def test_the_roster_page_queries_do_not_grow_with_shifts(scene, roster, login):
    client = login(scene.head)
    url = reverse("windows:roster", kwargs={"pk": roster.pk})
    client.get(url)
    with CaptureQueriesContext(connection) as full:
        client.get(url)
    Shift.objects.filter(roster=roster).exclude(date=TUESDAY).delete()
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    assert len(full) == len(few), [q["sql"] for q in full.captured_queries]


def test_publishing_and_my_shifts(scene, roster, login):
    client = login(scene.head)
    response = client.post(
        reverse("windows:roster-publish", kwargs={"pk": roster.pk}), {"version": roster.version}
    )
    assert response.status_code == 302
    assert Roster.objects.get(pk=roster.pk).status == Roster.Status.PUBLISHED

    mine = roster.shifts.filter(user=scene.staff[0]).count()
    assert mine > 0
    # Next week's shifts are on the page; the week after is not.
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        page = login(scene.staff[0]).get(reverse("windows:my-shifts"))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-testid="my-shift"') == mine
    assert scene.unit.name in html
    assert 'data-testid="my-bookings"' in html


def test_my_shifts_lists_no_draft_and_is_closed_to_enterprise_users(scene, roster, cast, login):
    page = login(scene.staff[0]).get(reverse("windows:my-shifts"))
    assert page.status_code == 200
    assert 'data-testid="my-shift"' not in page.content.decode()
    assert login(cast.ent_user_a1).get(reverse("windows:my-shifts")).status_code == 403
