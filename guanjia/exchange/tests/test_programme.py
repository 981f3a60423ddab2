"""The programme's services: pairings and secondments kept by the zone's supervisors, and the notes and
activities a cadre writes on its own secondment — who may, who may not, and what the rules refuse."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import F

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.exchange import programme
from guanjia.exchange.models import LearningNote, LiaisonActivity, Pairing, Secondment, SecondmentKind
from guanjia.exchange.tests.helpers import build_scene, make_cadre, make_note, make_pairing
from guanjia.testing import make_user


@pytest.fixture(autouse=True)
def _clock():
    """Friday 2026-11-20, 10:00 Beijing time: after the scene's secondments (2026-03-01 to 2026-08-31)."""
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def scene(cast):
    return build_scene(cast)


def _pairing(cast, by=None, **fields):
    values = {
        "local_unit": cast.zone_a,
        "partner_unit": "嘉兴经开区",
        "partner_city": "嘉兴市",
        "partner_province": "浙江省",
        "started_on": date(2026, 1, 1),
    }
    values.update(fields)
    return programme.create_pairing(by=by or cast.supervisor_a, **values)


# --- pairings ---------------------------------------------------------------------------------------


def test_a_supervisor_pairs_its_zone_and_the_pairing_is_audited(cast):
    pairing = _pairing(cast, focus="  营商环境 ")

    assert (pairing.zone, pairing.local_unit, pairing.focus) == (cast.zone_a, cast.zone_a, "营商环境")
    assert pairing.created_by == cast.supervisor_a
    record = AuditRecord.objects.get(action="exchange.pairing_create")
    assert record.object_id == str(pairing.pk) and record.actor == cast.supervisor_a


def test_a_department_of_the_zone_may_be_the_local_unit_and_the_zone_follows_it(cast):
    pairing = _pairing(cast, local_unit=cast.market_a)

    assert (pairing.zone, pairing.local_unit) == (cast.zone_a, cast.market_a)


@pytest.mark.parametrize("who", ["leader_a", "promoter_a", "dispatcher_a", "steward_a"])
def test_only_a_supervisor_pairs(cast, who):
    with pytest.raises(NotAllowed):
        _pairing(cast, by=getattr(cast, who))
    assert not Pairing.objects.exists()


def test_a_supervisor_of_another_zone_may_not_pair_zone_a(cast):
    supervisor_b = make_user("supervisor_b", cast.zone_b, Role.SUPERVISOR)

    with pytest.raises(NotAllowed):
        _pairing(cast, by=supervisor_b)


def test_a_pairing_names_a_partner_once_per_local_unit(cast):
    _pairing(cast)

    with pytest.raises(ServiceError, match="结对单位"):
        _pairing(cast)
    assert Pairing.objects.count() == 1
    assert _pairing(cast, local_unit=cast.market_a).pk  # another local unit may


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"partner_unit": "  "}, "结对单位：请填写"),
        ({"partner_city": ""}, "所在城市：请填写"),
        ({"partner_province": "省" * 21}, "所在省份：不能超过 20 个字"),
        ({"ended_on": date(2025, 12, 31)}, "结束日期：不能早于结对日期"),
    ],
)
def test_pairing_input_is_checked_field_by_field(cast, fields, message):
    with pytest.raises(ServiceError, match=message):
        _pairing(cast, **fields)


def test_a_unit_of_another_zone_is_no_local_unit(cast):
    with pytest.raises(NotAllowed):
        _pairing(cast, local_unit=cast.zone_b)  # zone B's: not the supervisor's
    with pytest.raises(ServiceError, match="不属于任何园区"):
        _pairing(cast, local_unit=cast.city)


def test_an_edit_with_a_stale_version_loses(cast):
    pairing = _pairing(cast)
    stale = Pairing.objects.get(pk=pairing.pk)
    programme.update_pairing(pairing, by=cast.supervisor_a, version=1, focus="产业链招商")

    with pytest.raises(Conflict):
        programme.update_pairing(stale, by=cast.supervisor_a, version=1, focus="干部交流")
    stored = Pairing.objects.get(pk=pairing.pk)
    assert (stored.focus, stored.version) == ("产业链招商", 2)


def test_a_pairing_stays_in_its_zone_and_a_leader_may_not_edit_it(cast):
    pairing = _pairing(cast)

    with pytest.raises(ServiceError, match="本地单位"):
        programme.update_pairing(pairing, by=cast.supervisor_a, version=1, local_unit=cast.centre_b)
    with pytest.raises(NotAllowed):
        programme.update_pairing(pairing, by=cast.leader_a, version=1, focus="x")
    with pytest.raises(ServiceError, match="不能修改的字段"):
        programme.update_pairing(pairing, by=cast.supervisor_a, version=1, zone=cast.zone_b)


# --- secondments ------------------------------------------------------------------------------------


def _second(pairing, cadre, by, **fields):
    values: dict[str, Any] = {
        "host_unit": "嘉兴经开区管委会",
        "post": "招商局副局长",
        "starts_on": date(2026, 9, 1),
        "ends_on": date(2027, 2, 28),
    }
    values.update(fields)
    return programme.create_secondment(pairing=pairing, cadre=cadre, by=by, **values)


def test_a_supervisor_seconds_a_cadre_of_its_zone(cast, scene):
    secondment = _second(scene.pairing, scene.cadre, cast.supervisor_a, kind=SecondmentKind.SHADOW)

    assert (secondment.cadre, secondment.kind, secondment.pairing) == (
        scene.cadre,
        SecondmentKind.SHADOW,
        scene.pairing,
    )
    assert AuditRecord.objects.filter(
        action="exchange.secondment_create", object_id=str(secondment.pk)
    ).exists()


def test_the_cadre_must_be_a_seconded_cadre_of_the_zone(cast, scene):
    with pytest.raises(ServiceError, match="挂职干部"):
        _second(scene.pairing, scene.cadre_b, cast.supervisor_a)  # zone B's cadre
    with pytest.raises(ServiceError, match="挂职干部"):
        _second(scene.pairing, cast.steward_a, cast.supervisor_a)  # no seconded_cadre role
    gone = make_cadre("cadre_gone", cast.zone_a)
    gone.is_active = False
    gone.save()
    with pytest.raises(ServiceError, match="挂职干部"):
        _second(scene.pairing, gone, cast.supervisor_a)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ends_on": date(2026, 8, 31)}, "结束日期：不能早于开始日期"),
        ({"starts_on": date(2026, 2, 1)}, "开始日期：不能早于结对日期"),
        ({"host_unit": ""}, "挂职单位：请填写"),
        ({"kind": "visit"}, "类型"),
    ],
)
def test_a_secondment_is_checked(cast, scene, fields, message):
    with pytest.raises(ServiceError, match=message):
        _second(scene.pairing, scene.cadre, cast.supervisor_a, **fields)


def test_a_cadre_is_not_in_two_places_at_once(cast, scene):
    # scene.cadre is seconded 2026-03-01 to 2026-08-31.
    with pytest.raises(ServiceError, match="时间不能重叠"):
        _second(scene.pairing, scene.cadre, cast.supervisor_a, starts_on=date(2026, 8, 31))
    assert Secondment.objects.filter(cadre=scene.cadre).count() == 1


def test_only_the_zones_supervisor_seconds(cast, scene):
    for who in (cast.leader_a, scene.supervisor_b, scene.cadre, cast.promoter_a):
        with pytest.raises(NotAllowed):
            _second(scene.pairing, scene.cadre2, who, starts_on=date(2026, 10, 1))


def test_the_cadre_changes_only_while_nothing_is_recorded(cast, scene):
    secondment = scene.secondment
    spare = make_cadre("cadre_spare", cast.zone_a)
    programme.update_secondment(secondment, by=cast.supervisor_a, version=1, cadre=spare)
    assert Secondment.objects.get(pk=secondment.pk).cadre == spare

    make_note(secondment)
    with pytest.raises(ServiceError, match="不能更换挂职干部"):
        programme.update_secondment(secondment, by=cast.supervisor_a, version=2, cadre=scene.cadre)
    programme.update_secondment(secondment, by=cast.supervisor_a, version=2, post="局长助理")
    stored = Secondment.objects.get(pk=secondment.pk)
    assert (stored.cadre, stored.post, stored.version) == (spare, "局长助理", 3)


def test_a_secondment_edit_with_a_stale_version_loses(cast, scene):
    programme.update_secondment(scene.secondment, by=cast.supervisor_a, version=1, tasks="学习一")
    with pytest.raises(Conflict):
        programme.update_secondment(scene.secondment, by=cast.supervisor_a, version=1, tasks="学习二")
    assert Secondment.objects.get(pk=scene.secondment.pk).tasks == "学习一"


# --- the cadre's notes and activities ---------------------------------------------------------------


def test_the_cadre_writes_notes_on_its_own_secondment(scene):
    note = programme.add_note(
        scene.secondment,
        by=scene.cadre,
        title="一窗通办",
        body="企业开办一日办结。",
        observed_on=date(2026, 4, 2),
    )

    assert note.secondment == scene.secondment
    assert AuditRecord.objects.filter(action="exchange.note_create", object_id=str(note.pk)).exists()


def test_no_one_else_writes_the_cadres_notes(cast, scene):
    values: dict[str, Any] = {"title": "见闻", "body": "内容", "observed_on": date(2026, 4, 2)}
    for who in (scene.cadre2, cast.supervisor_a, cast.leader_a, cast.promoter_a):
        with pytest.raises(NotAllowed):
            programme.add_note(scene.secondment, by=who, **values)
    assert not LearningNote.objects.exists()


@pytest.mark.parametrize(
    ("observed_on", "message"),
    [
        (date(2026, 2, 28), "应在挂职期间"),
        (date(2026, 9, 1), "应在挂职期间"),
    ],
)
def test_a_note_is_dated_within_the_secondment(scene, observed_on, message):
    with pytest.raises(ServiceError, match=message):
        programme.add_note(
            scene.secondment, by=scene.cadre, title="见闻", body="内容", observed_on=observed_on
        )


def test_a_note_is_not_dated_in_the_future(cast, scene):
    running = _second(
        scene.pairing, scene.cadre2, cast.supervisor_a, starts_on=date(2026, 11, 1), ends_on=date(2027, 4, 30)
    )
    with pytest.raises(ServiceError, match="不能晚于今天（2026-11-20）"):
        programme.add_note(
            running, by=scene.cadre2, title="见闻", body="内容", observed_on=date(2026, 11, 21)
        )
    assert programme.add_note(
        running, by=scene.cadre2, title="见闻", body="内容", observed_on=date(2026, 11, 20)
    )


def test_a_note_edit_sends_the_version_it_read_and_a_stale_one_loses(scene):
    note = make_note(scene.secondment)
    read = note.version
    stale = LearningNote.objects.get(pk=note.pk)
    programme.update_note(note, by=scene.cadre, version=read, title="拿地即开工")
    assert note.version == read + 1 == LearningNote.objects.get(pk=note.pk).version

    with pytest.raises(Conflict, match="刚被修改或删除"):
        programme.update_note(stale, by=scene.cadre, version=read, title="另一个标题")
    assert LearningNote.objects.get(pk=note.pk).title == "拿地即开工"


def test_a_note_changed_behind_the_editors_back_is_not_overwritten(scene):
    note = make_note(scene.secondment)
    LearningNote.objects.filter(pk=note.pk).update(body="别处改过", version=F("version") + 1)  # now stale

    with pytest.raises(Conflict):
        programme.update_note(note, by=scene.cadre, body="我的修改")
    assert LearningNote.objects.get(pk=note.pk).body == "别处改过"


def test_the_cadre_deletes_its_note_and_another_may_not(cast, scene):
    note = make_note(scene.secondment)
    with pytest.raises(NotAllowed):
        programme.delete_note(note, by=scene.cadre2)
    with pytest.raises(NotAllowed):
        programme.delete_note(note, by=cast.supervisor_a)

    with pytest.raises(Conflict, match="刚被修改"):
        programme.delete_note(note, by=scene.cadre, version=note.version + 1)
    assert LearningNote.objects.exists()
    programme.delete_note(note, by=scene.cadre, version=note.version)
    assert not LearningNote.objects.exists()
    assert AuditRecord.objects.filter(action="exchange.note_delete", object_id=str(note.pk)).exists()
    with pytest.raises(Conflict):
        programme.delete_note(note, by=scene.cadre)


def test_activities_follow_the_same_rules(scene):
    activity = programme.add_activity(
        scene.secondment, by=scene.cadre, title="新能源对接会", held_on=date(2026, 5, 6), place="昆山"
    )
    with pytest.raises(NotAllowed):
        programme.add_activity(scene.secondment, by=scene.cadre2, title="x", held_on=date(2026, 5, 6))
    with pytest.raises(ServiceError, match="活动名称：请填写"):
        programme.add_activity(scene.secondment, by=scene.cadre, title=" ", held_on=date(2026, 5, 6))

    programme.update_activity(activity, by=scene.cadre, version=activity.version, outcome="签约一家")
    assert LiaisonActivity.objects.get(pk=activity.pk).outcome == "签约一家"
    with pytest.raises(Conflict):
        programme.update_activity(activity, by=scene.cadre, version=1, outcome="x")
    programme.delete_activity(activity, by=scene.cadre)
    assert not LiaisonActivity.objects.exists()


def test_counts_per_secondment_do_not_multiply(scene):
    make_note(scene.secondment)
    make_note(scene.secondment, title="二")
    programme.add_activity(scene.secondment, by=scene.cadre, title="会", held_on=date(2026, 5, 6))

    counted = programme.with_counts(Secondment.objects.filter(pk=scene.secondment.pk)).get()
    names = ("note_count", "activity_count", "lead_count", "practice_count")
    assert tuple(getattr(counted, name) for name in names) == (2, 1, 0, 0)


def test_local_units_and_cadres_of_a_zone(cast, scene):
    assert set(programme.local_units([cast.zone_a.pk])) == {cast.zone_a, cast.centre_a, cast.market_a}
    assert set(programme.cadres_of_zones([cast.zone_a.pk])) == {scene.cadre, scene.cadre2}
    other = make_pairing(cast.zone_b, scene.supervisor_b, partner_unit="别处")
    assert other.zone == cast.zone_b
