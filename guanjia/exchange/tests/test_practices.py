"""Practices and adoptions (guanjia.exchange.practices): who may record them, what they must hold, and the
stages 借鉴 → 试行 → 推广, forward one step at a time, with ordered dates never in the future."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, OrgUnit
from guanjia.core.roles import Role
from guanjia.exchange import practices as services
from guanjia.exchange.models import Adoption, AdoptionStage, Practice
from guanjia.exchange.tests.helpers import make_cadre, make_pairing, make_secondment
from guanjia.testing import make_user

TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-06-15 10:00 +0800", tick=False):
        yield


@pytest.fixture
def people(cast):
    """The cast plus: cadre_a (seconded from zone A, to 昆山高新区), cadre_a2 (another cadre of zone A,
    with a secondment of its own), supervisor_b (zone B) and a department of zone B."""
    cast.cadre_a = make_cadre("cadre_a", cast.zone_a)
    cast.cadre_a2 = make_cadre("cadre_a2", cast.zone_a)
    cast.supervisor_b = make_user("supervisor_b", cast.centre_b, Role.SUPERVISOR)
    cast.pairing = make_pairing(cast.zone_a, cast.supervisor_a)
    cast.secondment = make_secondment(cast.pairing, cast.cadre_a, cast.supervisor_a)
    cast.secondment2 = make_secondment(
        cast.pairing, cast.cadre_a2, cast.supervisor_a, host_unit="昆山市政务服务中心"
    )
    return cast


def _practice(people, **kw) -> Practice:
    kw.setdefault("title", "早九晚五、中午不下班")
    kw.setdefault("description", "政务服务窗口中午轮流就餐，不停办。")
    kw.setdefault("by", people.supervisor_a)
    if "secondment" not in kw:
        kw.setdefault("zone", people.zone_a)
        kw.setdefault("seen_at", "昆山高新区")
        kw.setdefault("learned_by", "考察组")
    return services.create_practice(**kw)


def _adoption(people, practice=None, **kw) -> Adoption:
    kw.setdefault("unit", people.market_a)
    kw.setdefault("kpi", "final_satisfaction")
    kw.setdefault("referenced_on", date(2026, 1, 10))
    kw.setdefault("by", people.supervisor_a)
    return services.add_adoption(practice or _practice(people), **kw)


# --- practices ------------------------------------------------------------------------------------------


def test_a_supervisor_records_a_practice_of_its_zone_audited(people):
    practice = _practice(people)
    assert (practice.zone, practice.secondment, practice.created_by) == (
        people.zone_a,
        None,
        people.supervisor_a,
    )
    assert (practice.seen_at, practice.learned_by, practice.version) == ("昆山高新区", "考察组", 1)
    record = AuditRecord.objects.get(action="exchange.practice_create")
    assert record.actor_id == people.supervisor_a.pk and record.object_id == str(practice.pk)


def test_a_cadre_proposes_from_its_own_secondment_where_and_by_whom_default_to_it(people):
    practice = services.create_practice(
        by=people.cadre_a, secondment=people.secondment, title="一窗通办", description="企业开办一窗受理。"
    )
    assert practice.zone == people.zone_a
    assert practice.seen_at == "昆山高新区管委会"
    assert practice.learned_by == str(people.cadre_a)
    assert Practice.objects.visible_to(people.cadre_a).filter(pk=practice.pk).exists()
    assert not Practice.objects.visible_to(people.cadre_a2).filter(pk=practice.pk).exists()


def test_a_cadre_proposes_only_from_its_own_secondment(people):
    with pytest.raises(NotAllowed):
        services.create_practice(
            by=people.cadre_a, secondment=people.secondment2, title="一窗通办", description="内容"
        )
    with pytest.raises(NotAllowed, match="本人挂职"):
        services.create_practice(
            by=people.cadre_a,
            zone=people.zone_a,
            title="一窗通办",
            description="内容",
            seen_at="昆山",
            learned_by="我",
        )
    with pytest.raises(ServiceError, match="来自挂职"):
        services.create_practice(
            by=people.cadre_a, title="一窗通办", description="内容", seen_at="昆山", learned_by="我"
        )
    assert not Practice.objects.exists()


@pytest.mark.parametrize("who", ["leader_a", "promoter_a", "handler_a", "supervisor_b"])
def test_others_record_no_practice_of_zone_a(people, who):
    with pytest.raises(NotAllowed):
        _practice(people, by=getattr(people, who))
    with pytest.raises(NotAllowed):
        _practice(people, by=getattr(people, who), secondment=people.secondment)
    assert not Practice.objects.exists()


def test_a_practice_names_what_where_and_by_whom(people):
    with pytest.raises(ServiceError, match="经验做法：请填写"):
        _practice(people, title="  ")
    with pytest.raises(ServiceError, match="学习地点：请填写"):
        _practice(people, seen_at="")
    with pytest.raises(ServiceError, match="学习人：不能超过 50 个字"):
        _practice(people, learned_by="人" * 51)
    with pytest.raises(ServiceError, match="所属园区"):
        _practice(people, zone=None)
    # A secondment of another zone cannot be named for zone A.
    other = make_secondment(
        make_pairing(people.zone_b, people.supervisor_b), people.cadre_a, people.supervisor_b
    )
    with pytest.raises(ServiceError, match="不属于所选园区"):
        _practice(people, secondment=other, zone=people.zone_a)
    assert not Practice.objects.exists()


def test_update_by_the_keeper_and_by_the_cadre_of_its_secondment(people):
    practice = services.create_practice(
        by=people.cadre_a, secondment=people.secondment, title="一窗通办", description="内容"
    )
    services.update_practice(practice, by=people.cadre_a, version=1, description="企业开办一日办结。")
    services.update_practice(practice, by=people.supervisor_a, version=2, title="一窗通办、一日办结")
    practice.refresh_from_db()
    assert (practice.title, practice.description, practice.version) == (
        "一窗通办、一日办结",
        "企业开办一日办结。",
        3,
    )
    # Which secondment it came from is the supervisors' to change.
    with pytest.raises(NotAllowed, match="来自挂职"):
        services.update_practice(practice, by=people.cadre_a, version=3, secondment=None)
    for outsider in (people.cadre_a2, people.leader_a, people.supervisor_b):
        with pytest.raises(NotAllowed):
            services.update_practice(practice, by=outsider, version=3, title="改")
    services.update_practice(practice, by=people.supervisor_a, version=3, secondment=None)
    practice.refresh_from_db()
    assert practice.secondment is None
    # Now it is no longer the cadre's practice.
    with pytest.raises(NotAllowed):
        services.update_practice(practice, by=people.cadre_a, version=4, title="改")
    assert AuditRecord.objects.filter(action="exchange.practice_update").count() == 3


def test_a_stale_edit_loses(people):
    practice = _practice(people)
    services.update_practice(practice, by=people.supervisor_a, version=1, title="第一次修改")
    stale = Practice.objects.get(pk=practice.pk)
    with pytest.raises(Conflict):
        services.update_practice(stale, by=people.supervisor_a, version=1, title="第二次修改")
    assert Practice.objects.get(pk=practice.pk).title == "第一次修改"


# --- adoptions ------------------------------------------------------------------------------------------------


def test_the_zone_or_one_of_its_departments_adopts_once(people):
    practice = _practice(people)
    adoption = _adoption(people, practice)
    assert (adoption.stage, adoption.referenced_on, adoption.trial_on, adoption.rollout_on) == (
        AdoptionStage.REFERENCE,
        date(2026, 1, 10),
        None,
        None,
    )
    assert _adoption(people, practice, unit=people.zone_a).unit == people.zone_a
    with pytest.raises(ServiceError, match="已在采纳"):
        _adoption(people, practice)
    market_b = OrgUnit.objects.create(
        name="经开区市场监管局", code="zone-b-market", kind=OrgUnit.Kind.DEPARTMENT, parent=people.zone_b
    )
    for unit in (market_b, people.zone_b, people.city):
        with pytest.raises(ServiceError, match="采纳单位"):
            _adoption(people, practice, unit=unit)
    assert practice.adoptions.count() == 2
    assert AuditRecord.objects.filter(action="exchange.adoption_create").count() == 2


def test_an_adoption_needs_a_kpi_of_the_platform_and_a_past_date(people):
    practice = _practice(people)
    with pytest.raises(ServiceError, match="效果指标"):
        _adoption(people, practice, kpi="happiness")
    with pytest.raises(ServiceError, match="借鉴日期：不能晚于今天"):
        _adoption(people, practice, referenced_on=TODAY + timedelta(days=1))
    assert _adoption(people, practice, referenced_on=TODAY).referenced_on == TODAY


@pytest.mark.parametrize("who", ["leader_a", "cadre_a", "promoter_a", "supervisor_b"])
def test_only_the_zones_supervisors_record_adoptions(people, who):
    practice = _practice(people, secondment=people.secondment)
    with pytest.raises(NotAllowed):
        _adoption(people, practice, by=getattr(people, who))
    assert not Adoption.objects.exists()


def test_stages_go_forward_one_step_at_a_time(people):
    adoption = _adoption(people)
    # No skip: 借鉴 → 推广 is refused; nor back, nor staying.
    for wanted in (AdoptionStage.ROLLOUT, AdoptionStage.REFERENCE):
        with pytest.raises(ServiceError, match="只能进入“试行”"):
            services.advance(
                adoption, to_stage=wanted, on=date(2026, 3, 1), by=people.supervisor_a, version=1
            )
    with pytest.raises(ServiceError, match="无效的阶段"):
        services.advance(adoption, to_stage="done", on=date(2026, 3, 1), by=people.supervisor_a, version=1)
    services.advance(
        adoption, to_stage=AdoptionStage.TRIAL, on=date(2026, 3, 1), by=people.supervisor_a, version=1
    )
    assert (adoption.stage, adoption.trial_on, adoption.version) == (AdoptionStage.TRIAL, date(2026, 3, 1), 2)
    with pytest.raises(ServiceError, match="只能进入“推广”"):
        services.advance(
            adoption, to_stage=AdoptionStage.TRIAL, on=date(2026, 4, 1), by=people.supervisor_a, version=2
        )
    services.advance(
        adoption, to_stage=AdoptionStage.ROLLOUT, on=date(2026, 5, 1), by=people.supervisor_a, version=2
    )
    with pytest.raises(ServiceError, match="已是“推广”"):
        services.advance(
            adoption, to_stage=AdoptionStage.ROLLOUT, on=TODAY, by=people.supervisor_a, version=3
        )
    stored = Adoption.objects.get(pk=adoption.pk)
    assert (stored.stage, stored.referenced_on, stored.trial_on, stored.rollout_on) == (
        AdoptionStage.ROLLOUT,
        date(2026, 1, 10),
        date(2026, 3, 1),
        date(2026, 5, 1),
    )
    moves = AuditRecord.objects.filter(action="exchange.adoption_advance").order_by("pk")
    assert [r.detail["to"] for r in moves] == [AdoptionStage.TRIAL, AdoptionStage.ROLLOUT]


def test_stage_dates_are_ordered_and_never_in_the_future(people):
    adoption = _adoption(people)
    with pytest.raises(ServiceError, match="试行日期：不能早于借鉴日期（2026-01-10）"):
        services.advance(
            adoption, to_stage=AdoptionStage.TRIAL, on=date(2026, 1, 9), by=people.supervisor_a, version=1
        )
    with pytest.raises(ServiceError, match="试行日期：不能晚于今天"):
        services.advance(
            adoption,
            to_stage=AdoptionStage.TRIAL,
            on=TODAY + timedelta(days=1),
            by=people.supervisor_a,
            version=1,
        )
    # The same day as the stage before is allowed.
    services.advance(
        adoption, to_stage=AdoptionStage.TRIAL, on=date(2026, 1, 10), by=people.supervisor_a, version=1
    )
    with pytest.raises(ServiceError, match="推广日期：不能早于试行日期（2026-01-10）"):
        services.advance(
            adoption, to_stage=AdoptionStage.ROLLOUT, on=date(2026, 1, 9), by=people.supervisor_a, version=2
        )
    assert Adoption.objects.get(pk=adoption.pk).stage == AdoptionStage.TRIAL


@pytest.mark.parametrize("who", ["leader_a", "cadre_a", "supervisor_b", "handler_a"])
def test_only_the_zones_supervisors_advance(people, who):
    adoption = _adoption(people, _practice(people, secondment=people.secondment))
    with pytest.raises(NotAllowed):
        services.advance(adoption, to_stage=AdoptionStage.TRIAL, on=TODAY, by=getattr(people, who), version=1)
    assert Adoption.objects.get(pk=adoption.pk).stage == AdoptionStage.REFERENCE


def test_a_stale_advance_loses(people):
    adoption = _adoption(people)
    stale = Adoption.objects.select_related("practice").get(pk=adoption.pk)
    services.advance(
        adoption, to_stage=AdoptionStage.TRIAL, on=date(2026, 3, 1), by=people.supervisor_a, version=1
    )
    with pytest.raises(Conflict):
        services.advance(
            stale, to_stage=AdoptionStage.TRIAL, on=date(2026, 4, 1), by=people.supervisor_a, version=1
        )
    assert Adoption.objects.get(pk=adoption.pk).trial_on == date(2026, 3, 1)


def test_the_list_groups_practices_by_their_furthest_stage(people):
    none = _practice(people, title="未采纳")
    one = _practice(people, title="借鉴中")
    _adoption(people, one)
    two = _practice(people, title="试行中")
    _adoption(people, two, unit=people.zone_a)
    trial = _adoption(people, two)
    services.advance(
        trial, to_stage=AdoptionStage.TRIAL, on=date(2026, 2, 1), by=people.supervisor_a, version=1
    )
    all_practices = Practice.objects.all()
    assert services.furthest_counts(all_practices) == {"none": 1, "reference": 1, "trial": 1, "rollout": 0}
    assert list(services.filter_furthest(all_practices, "none")) == [none]
    assert list(services.filter_furthest(all_practices, AdoptionStage.REFERENCE)) == [one]
    assert list(services.filter_furthest(all_practices, AdoptionStage.TRIAL)) == [two]
    counted = vars(services.with_stage_counts(all_practices).get(pk=two.pk))
    assert (counted["n_reference"], counted["n_trial"], counted["n_rollout"]) == (1, 1, 0)
