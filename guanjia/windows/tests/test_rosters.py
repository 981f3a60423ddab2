"""A unit's staff and its weekly roster: the keeper sets who serves where and when, generates a week,
adjusts it shift by shift with the gaps recomputed each time, and publishes it to the staff; who may not
(a handler on the staff, a leader, another department's head, another zone's keeper), and every refusal
naming what is wrong."""

from __future__ import annotations

from collections import Counter
from datetime import time, timedelta

import pytest
import time_machine

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, Notification
from guanjia.core.roles import Role
from guanjia.testing import make_user
from guanjia.windows import rostering, rosters
from guanjia.windows.models import Roster, ServiceUnit, Shift, Staffing
from guanjia.windows.rosters import InvalidField
from guanjia.windows.tests.roster_helpers import (
    NOW,
    THIS_WEEK,
    TUESDAY,
    WEEK,
    add_staff,
    build_scene,
    make_window,
    other_zone_unit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def scene(cast):
    return build_scene(cast)


def generated(scene) -> Roster:
    return rosters.generate_roster(scene.unit, WEEK, by=scene.head)


# --- staff -----------------------------------------------------------------------------------------------


def test_the_keeper_puts_a_zone_account_on_the_staff_with_its_windows_days_and_limit(scene, cast):
    second = make_window(scene.unit, "2", name="税务登记")
    staffing = add_staff(
        scene.unit, cast.steward_a, [scene.window, second], scene.head, weekdays=[3, 1, 1], max_shifts=2
    )

    staffing.refresh_from_db()
    assert staffing.weekdays == ",1,3,"
    assert staffing.max_shifts == 2
    assert set(staffing.windows.all()) == {scene.window, second}
    assert AuditRecord.objects.filter(action="windows.staffing_add", object_id=str(staffing.pk)).exists()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"weekdays": []}, "weekdays", "请至少选择一天"),
        ({"weekdays": [0, 8]}, "weekdays", "1（周一）到 7（周日）"),
        ({"max_shifts": 8}, "max_shifts", "0 到 7"),
        ({"max_shifts": -1}, "max_shifts", "0 到 7"),
        ({"windows": []}, "windows", "请至少选择一个窗口"),
    ],
)
def test_bad_staff_settings_are_refused_naming_the_field(scene, cast, change, field, words):
    values = {"windows": [scene.window], "weekdays": [1], "max_shifts": 3, **change}
    with pytest.raises(InvalidField) as refused:
        rosters.save_staffing(scene.unit, user=cast.steward_a, by=scene.head, **values)
    assert refused.value.field == field
    assert words in str(refused.value)
    assert not Staffing.objects.filter(user=cast.steward_a).exists()


def test_a_window_of_another_unit_an_enterprise_user_an_admin_or_another_zones_account_is_refused(
    scene, cast
):
    other, _head_b = other_zone_unit(cast)
    foreign_window = other.windows.get()
    with pytest.raises(InvalidField, match="不属于本服务单位"):
        add_staff(scene.unit, cast.steward_a, [foreign_window], scene.head)
    for account, words in (
        (cast.ent_user_a1, "不是在岗的工作人员账号"),
        (cast.sysadmin, "不是在岗的工作人员账号"),
        (cast.outsider, "不是在岗的工作人员账号"),
        (cast.steward_b, "不是本园区的工作人员"),
    ):
        with pytest.raises(InvalidField, match=words):
            add_staff(scene.unit, account, [scene.window], scene.head)
    assert not Staffing.objects.filter(user__in=[cast.ent_user_a1, cast.sysadmin, cast.steward_b]).exists()


def test_a_person_is_on_a_units_staff_once(scene, cast):
    with pytest.raises(InvalidField, match="已在本单位工作人员名单中"):
        add_staff(scene.unit, cast.handler_a, [scene.window], scene.head)


def test_only_the_head_of_the_units_department_keeps_its_staff(scene, cast):
    leader_with_head_role = make_user("lead_head", cast.zone_a, Role.LEADER)
    for who in (cast.handler_a, cast.leader_a, cast.dispatcher_a, scene.other_head, leader_with_head_role):
        with pytest.raises(NotAllowed):
            add_staff(scene.unit, cast.steward_a, [scene.window], who)
    assert not Staffing.objects.filter(user=cast.steward_a).exists()


def test_a_stale_staff_edit_is_refused(scene):
    staffing = Staffing.objects.get(unit=scene.unit, user=scene.staff[0])
    shown = staffing.version
    rosters.save_staffing(
        scene.unit,
        user=staffing.user,
        windows=[scene.window],
        weekdays=[1, 2],
        max_shifts=2,
        by=scene.head,
        staffing=staffing,
        version=shown,
    )
    with pytest.raises(Conflict, match="已被他人修改"):
        rosters.save_staffing(
            scene.unit,
            user=staffing.user,
            windows=[scene.window],
            weekdays=[1],
            max_shifts=1,
            by=scene.head,
            staffing=staffing,
            version=shown,
        )
    staffing.refresh_from_db()
    assert (staffing.weekdays, staffing.max_shifts) == (",1,2,", 2)


# --- generating ------------------------------------------------------------------------------------------


def test_a_generated_week_staffs_the_window_every_minute_and_is_a_draft(scene):
    roster = generated(scene)

    assert roster.status == Roster.Status.DRAFT
    assert roster.solver_status in (rostering.OPTIMAL, rostering.FEASIBLE)
    assert roster.shortages == []
    shifts = list(roster.shifts.all())
    assert {shift.date for shift in shifts} == {WEEK + timedelta(days=n) for n in range(5)}
    assert rostering.gaps(scene.unit, WEEK, shifts) == []
    assert all(shift.lunch_start in rostering.lunch_starts(scene.unit) for shift in shifts)
    assert max(Counter(shift.user_id for shift in shifts).values()) <= 5
    assert AuditRecord.objects.filter(action="windows.roster_generate", object_id=str(roster.pk)).exists()


def test_the_week_must_start_on_a_monday_not_before_this_week(scene):
    with pytest.raises(InvalidField, match="周一日期须为星期一"):
        rosters.generate_roster(scene.unit, TUESDAY, by=scene.head)
    with pytest.raises(InvalidField, match="不能早于本周"):
        rosters.generate_roster(scene.unit, THIS_WEEK - timedelta(days=7), by=scene.head)
    assert rosters.generate_roster(scene.unit, THIS_WEEK, by=scene.head).week_start == THIS_WEEK
    assert not Roster.objects.exclude(week_start=THIS_WEEK).exists()


def test_a_draft_is_replaced_but_a_published_roster_is_not_regenerated(scene):
    first = generated(scene)
    Shift.objects.filter(roster=first).delete()
    again = rosters.generate_roster(scene.unit, WEEK, by=scene.head)
    assert again.pk == first.pk
    assert again.version == first.version + 1
    assert again.shifts.count() > 0

    rosters.publish_roster(again, by=scene.head, version=again.version)
    with pytest.raises(ServiceError, match="已发布的排班表不能重新生成"):
        rosters.generate_roster(scene.unit, WEEK, by=scene.head)


def test_an_impossible_week_is_stored_with_its_shortages(scene):
    # One person alone cannot keep the window open through its own lunch break.
    Staffing.objects.filter(unit=scene.unit).exclude(user=scene.staff[0]).update(is_active=False)
    roster = generated(scene)

    assert roster.solver_status == rostering.INFEASIBLE
    assert roster.shortages
    texts = [shortage.describe() for shortage in rosters.shortages_of(roster)]
    assert any("缺 1 人" in text and "1号窗口" in text for text in texts), texts


def test_a_leader_a_handler_or_another_departments_head_cannot_generate(scene, cast):
    for who in (cast.leader_a, cast.handler_a, scene.other_head, cast.supervisor_a):
        with pytest.raises(NotAllowed):
            rosters.generate_roster(scene.unit, WEEK, by=who)
    assert not Roster.objects.exists()


# --- adjusting -----------------------------------------------------------------------------------------------


def test_removing_a_shift_opens_a_gap_and_putting_it_back_closes_it(scene):
    roster = generated(scene)
    shift = roster.shifts.filter(date=TUESDAY).select_related("user").first()
    assert shift is not None

    roster = rosters.remove_shift(roster, shift=shift, by=scene.head, version=roster.version)
    assert roster.shortages, "one fewer on Tuesday leaves the window short at some minute"
    assert {row["date"] for row in Roster.objects.get(pk=roster.pk).shortages} == {TUESDAY.isoformat()}

    roster = rosters.set_shift(
        roster,
        user=shift.user,
        day=TUESDAY,
        window=scene.window,
        lunch_start=shift.lunch_start,
        by=scene.head,
        version=roster.version,
    )
    assert Roster.objects.get(pk=roster.pk).shortages == []
    actions = list(AuditRecord.objects.filter(object_id=str(roster.pk)).values_list("action", flat=True))
    assert "windows.shift_remove" in actions and "windows.shift_set" in actions


def test_setting_a_persons_day_again_changes_that_day_not_adds_one(scene):
    roster = generated(scene)
    shift = roster.shifts.filter(date=TUESDAY).first()
    assert shift is not None
    other_lunch = next(t for t in rostering.lunch_starts(scene.unit) if t != shift.lunch_start)
    rosters.set_shift(
        roster,
        user=shift.user,
        day=TUESDAY,
        window=scene.window,
        lunch_start=other_lunch,
        by=scene.head,
        version=roster.version,
    )
    assert Shift.objects.filter(roster=roster, user=shift.user, date=TUESDAY).get().lunch_start == other_lunch


def _free(scene, roster, day):
    busy = set(Shift.objects.filter(roster=roster, date=day).values_list("user_id", flat=True))
    return next(user for user in scene.staff if user.pk not in busy)


@pytest.mark.parametrize(
    ("case", "field", "words"),
    [
        ("unqualified window", "window", "不能在"),
        ("lunch outside the window", "lunch_start", "须在午休时段内"),
        ("no lunch", "lunch_start", "请选择午休时间"),
        ("day outside the week", "day", "不在本排班表的这一周内"),
        ("saturday", "day", "不是办公日"),
        ("not on the staff", "user", "不在本单位在岗工作人员名单中"),
        ("over max", "user", "本周最多排 1 个班次"),
    ],
)
def test_a_shift_the_rules_refuse_names_the_field_and_changes_nothing(scene, cast, case, field, words):
    roster = generated(scene)
    user = _free(scene, roster, TUESDAY)
    values = {"user": user, "day": TUESDAY, "window": scene.window, "lunch_start": time(12, 0)}
    if case == "unqualified window":
        values["window"] = make_window(scene.unit, "2", name="税务登记")
    elif case == "lunch outside the window":
        values["lunch_start"] = time(10, 0)
    elif case == "no lunch":
        values["lunch_start"] = None
    elif case == "day outside the week":
        values["day"] = WEEK + timedelta(days=7)
    elif case == "saturday":
        values["day"] = WEEK + timedelta(days=5)
    elif case == "not on the staff":
        values["user"] = cast.steward_a
    elif case == "over max":
        Staffing.objects.filter(unit=scene.unit, user=user).update(max_shifts=1)
        assert Shift.objects.filter(roster=roster, user=user).exists()
    before = (roster.version, list(Shift.objects.filter(roster=roster).values_list("pk", "user_id", "date")))

    with pytest.raises(InvalidField) as refused:
        rosters.set_shift(roster, by=scene.head, version=roster.version, **values)

    assert refused.value.field == field
    assert words in str(refused.value)
    fresh = Roster.objects.get(pk=roster.pk)
    assert (
        fresh.version,
        list(Shift.objects.filter(roster=roster).values_list("pk", "user_id", "date")),
    ) == before


def test_a_unit_that_closes_for_lunch_takes_no_lunch_start(cast):
    scene = build_scene(cast, no_lunch_break=False)
    roster = generated(scene)
    assert roster.shortages == []
    assert not roster.shifts.exclude(lunch_start=None).exists()
    user = _free(scene, roster, TUESDAY)
    with pytest.raises(InvalidField, match="中午闭厅"):
        rosters.set_shift(
            roster,
            user=user,
            day=TUESDAY,
            window=scene.window,
            lunch_start=time(12, 0),
            by=scene.head,
            version=roster.version,
        )
    rosters.set_shift(
        roster,
        user=user,
        day=TUESDAY,
        window=scene.window,
        lunch_start=None,
        by=scene.head,
        version=roster.version,
    )
    assert Shift.objects.filter(roster=roster, user=user, date=TUESDAY, lunch_start=None).exists()


def test_a_stale_roster_edit_is_refused(scene):
    roster = generated(scene)
    shown = roster.version
    shift = roster.shifts.first()
    assert shift is not None
    rosters.remove_shift(Roster.objects.get(pk=roster.pk), shift=shift, by=scene.head, version=shown)
    with pytest.raises(Conflict, match="排班表已被他人修改，请刷新后重试"):
        rosters.publish_roster(Roster.objects.get(pk=roster.pk), by=scene.head, version=shown)
    assert Roster.objects.get(pk=roster.pk).status == Roster.Status.DRAFT


def test_staff_on_the_roster_read_it_but_cannot_change_it(scene, cast):
    roster = generated(scene)
    assert Roster.objects.visible_to(cast.handler_a).filter(pk=roster.pk).exists()
    shift = roster.shifts.first()
    assert shift is not None
    for who in (cast.handler_a, cast.leader_a, scene.other_head):
        with pytest.raises(NotAllowed):
            rosters.remove_shift(roster, shift=shift, by=who, version=roster.version)
        with pytest.raises(NotAllowed):
            rosters.publish_roster(roster, by=who, version=roster.version)


def test_another_zones_keeper_does_not_see_the_unit(scene, cast):
    generated(scene)
    _unit, head_b = other_zone_unit(cast)
    assert not ServiceUnit.objects.visible_to(head_b).filter(pk=scene.unit.pk).exists()
    assert not Roster.objects.visible_to(head_b).exists()
    with pytest.raises(NotAllowed):
        rosters.generate_roster(scene.unit, WEEK + timedelta(days=7), by=head_b)


# --- publishing ---------------------------------------------------------------------------------------------


def test_publishing_tells_the_staff_on_it_and_later_edits_are_allowed_and_told(scene, cast):
    roster = generated(scene)
    rostered = set(roster.shifts.values_list("user_id", flat=True))

    roster = rosters.publish_roster(roster, by=scene.head, version=roster.version)

    assert Roster.objects.get(pk=roster.pk).status == Roster.Status.PUBLISHED
    told = set(Notification.objects.filter(title__contains="排班已发布").values_list("user_id", flat=True))
    assert told == rostered
    assert all(n.link == "/windows/my-shifts/" for n in Notification.objects.all())
    with pytest.raises(ServiceError, match="已发布"):
        rosters.publish_roster(roster, by=scene.head, version=roster.version)

    # Sick leave after publishing: the day is taken off, audited, and the person is told.
    shift = roster.shifts.select_related("user").first()
    assert shift is not None
    rosters.remove_shift(roster, shift=shift, by=scene.head, version=roster.version)
    assert Notification.objects.filter(user=shift.user, title__contains="已取消").exists()
    record = AuditRecord.objects.get(action="windows.shift_remove", object_id=str(roster.pk))
    assert record.detail["published"] is True
