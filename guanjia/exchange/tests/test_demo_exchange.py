"""The exchange part of `guanjia demo-data`: two pairings, five secondments with notes and activities,
sourced leads in every state (one taken into the investment pipeline), practices at every stage, and an
adoption whose effect shows in the quarters before and after its trial."""

from __future__ import annotations

from datetime import datetime, time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from guanjia.appeals import kpi
from guanjia.appeals.models import Appeal, Status
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.core.workcalendar import BEIJING
from guanjia.enterprises.demo import DEMO_LOGINS
from guanjia.exchange import effects
from guanjia.exchange.access import today
from guanjia.exchange.demo import EFFECT_PRACTICE
from guanjia.exchange.models import (
    Adoption,
    AdoptionStage,
    Pairing,
    Practice,
    Secondment,
    SecondmentKind,
    SourcedLead,
    SourcedLeadStatus,
)
from guanjia.investment.access import promoters_of_zone
from guanjia.investment.models import LeadSource, LeadStatus

COUNT = 40


@pytest.fixture(scope="module")
def demo_area(django_db_setup, django_db_blocker):
    """The demo, built once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo_data", "--enterprises", str(COUNT), stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def area(demo_area, db) -> dict[str, OrgUnit]:
    return {unit.code: unit for unit in OrgUnit.objects.all()}


def test_two_pairings_and_five_secondments_with_notes_and_activities(area):
    pairings = {p.zone.code: p for p in Pairing.objects.select_related("zone", "local_unit")}
    assert set(pairings) == {"jn-gx", "jn-jk"}
    assert pairings["jn-gx"].partner_unit == "昆山高新区" and pairings["jn-jk"].partner_unit == "苏州工业园区"
    assert all(p.local_unit == p.zone and p.started_on < today() and p.focus for p in pairings.values())
    secondments = list(
        Secondment.objects.select_related("cadre", "pairing").prefetch_related("notes", "activities")
    )
    assert len(secondments) == 5
    assert {s.kind for s in secondments} == set(SecondmentKind.values)
    day = today()
    current = [s for s in secondments if s.starts_on <= day <= s.ends_on]
    assert current and len(current) < len(secondments)  # some are under way, some came back
    for secondment in secondments:
        cadre = secondment.cadre
        assert cadre.has_role(Role.SECONDED_CADRE) and cadre.zone_ids() == [secondment.pairing.zone_id]
        assert secondment.notes.all() and secondment.activities.all(), cadre.username
        for row_day in [n.observed_on for n in secondment.notes.all()] + [
            a.held_on for a in secondment.activities.all()
        ]:
            assert secondment.starts_on <= row_day <= min(secondment.ends_on, day), cadre.username
        # A cadre reads its own secondment only.
        assert list(Secondment.objects.visible_to(cadre)) == [secondment]
    mine = next(s for s in secondments if s.cadre.username == "gj_cadre")
    assert mine in current and mine.pairing.zone.code == "jn-gx"


def test_sourced_leads_waiting_declined_and_one_taken_into_the_investment_pipeline(area):
    leads = list(
        SourcedLead.objects.select_related("secondment__pairing__zone", "lead__target", "decided_by")
    )
    assert {lead.status for lead in leads} == set(SourcedLeadStatus.values)
    for sourced in leads:
        zone = sourced.secondment.pairing.zone
        assert sourced.contact_phone.startswith("139") and len(sourced.uscc) == 18
        if sourced.status == SourcedLeadStatus.SUBMITTED:
            assert sourced.lead is None and sourced.decided_by is None
            continue
        assert sourced.decided_by in set(promoters_of_zone(zone))
        assert sourced.decided_at is not None and sourced.decided_at > sourced.created_at
        if sourced.status == SourcedLeadStatus.DECLINED:
            assert sourced.decline_reason and sourced.lead is None
    taken = [lead for lead in leads if lead.status == SourcedLeadStatus.TAKEN]
    assert len(taken) == 1
    lead = taken[0].lead
    assert lead is not None and lead.source == LeadSource.SECONDED_CADRE
    assert lead.zone == taken[0].secondment.pairing.zone and lead.target.zone == lead.zone
    assert lead.target.name == taken[0].company_name and lead.target.uscc == taken[0].uscc
    assert lead.node is not None and lead.node in lead.target.nodes.all()
    assert lead.status == LeadStatus.CONTACTING and lead.transitions.count() == 1 and lead.logs.exists()
    assert lead.owner == taken[0].decided_by and lead.contacts.get().phone == taken[0].contact_phone
    # The zone's promoter sees the waiting leads of its zone, not the other zone's.
    promoter = User.objects.get(username="gj_promoter")
    seen = SourcedLead.objects.visible_to(promoter)
    assert seen.filter(status=SourcedLeadStatus.SUBMITTED).exists()
    assert not seen.filter(secondment__pairing__zone=area["jn-jk"]).exists()


def test_practices_at_every_stage_adopted_by_units_of_their_zone(area):
    practices = list(
        Practice.objects.select_related("secondment__pairing").prefetch_related("adoptions__unit")
    )
    assert len(practices) >= 5
    assert any(not p.adoptions.all() for p in practices)  # learned, not adopted yet
    adoptions = [a for p in practices for a in p.adoptions.all()]
    assert {a.stage for a in adoptions} == set(AdoptionStage.values)
    day = today()
    for practice in practices:
        assert practice.secondment is None or practice.secondment.pairing.zone_id == practice.zone_id
        for adoption in practice.adoptions.all():
            assert adoption.unit == practice.zone or adoption.unit.parent_id == practice.zone_id
            assert adoption.kpi in kpi.KPIS
            dates = [adoption.referenced_on, adoption.trial_on, adoption.rollout_on]
            reached = {
                AdoptionStage.REFERENCE: 1,
                AdoptionStage.TRIAL: 2,
                AdoptionStage.ROLLOUT: 3,
            }[AdoptionStage(adoption.stage)]
            assert all(d is not None for d in dates[:reached]) and all(d is None for d in dates[reached:])
            assert max(d for d in dates if d is not None) <= day


def test_the_trial_of_early_nine_to_five_shows_its_effect_quarter_by_quarter(area):
    adoption = Adoption.objects.select_related("unit").get(
        practice__title=EFFECT_PRACTICE, stage=AdoptionStage.TRIAL
    )
    assert adoption.unit == area["jn-gx-market"]
    assert adoption.trial_on is not None and 150 <= (today() - adoption.trial_on).days <= 230
    effect = effects.effect(adoption)
    assert all(figure.value.denominator >= 5 for figure in effect.before), effect.before
    assert effect.after[0].value.denominator >= 5, effect.after
    assert effect.improved is True and effect.change is not None and effect.change > 0.1
    # The replayed history is the platform's own: the rollups agree with the appeals themselves.
    scope = kpi.Scope(department_ids=[adoption.unit.pk])
    for figure in [*effect.before, *effect.after]:
        period = figure.quarter.period
        direct = kpi.first_satisfaction(scope, period, source="direct")
        assert kpi.first_satisfaction(scope, period, source="rollups") == direct, figure.quarter
    old = Appeal.objects.filter(
        assignments__department=adoption.unit,
        assignments__is_lead=True,
        submitted_at__lt=datetime.combine(adoption.trial_on, time(), BEIJING),
    ).distinct()
    assert old.count() >= 10 and not old.exclude(status=Status.CLOSED).exists()


def test_the_cadre_login_describes_what_it_can_do_and_its_home_shows_its_secondment(area):
    text = next(login.sees for login in DEMO_LOGINS if login.username == "gj_cadre")
    assert "挂职见闻" in text and "推荐" in text
    client = Client()
    client.force_login(User.objects.get(username="gj_cadre"))
    page = client.get("/").content.decode()
    assert "我的挂职" in page and "挂职见闻" in page
    client.force_login(User.objects.get(username="gj_supervisor"))
    page = client.get("/").content.decode()
    assert "经验做法" in page and "试行中" in page
