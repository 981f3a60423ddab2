"""Coverage arithmetic, with numbers computed by hand: who counts as visited, and the problems."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Appeal, Outcome, Status
from guanjia.campaigns import services
from guanjia.campaigns.models import Campaign
from guanjia.campaigns.tests.helpers import USCC_A3, make_campaign
from guanjia.enterprises.uscc import with_check_digit
from guanjia.testing import make_enterprise
from guanjia.visits import services as visits
from guanjia.visits.models import Mode

pytestmark = pytest.mark.django_db


def _visit(enterprise, steward, days_ago: int, problems: int = 0):
    return visits.record_visit(
        enterprise,
        by=steward,
        visited_on=services.today() - timedelta(days=days_ago),
        mode=Mode.ONSITE,
        our_side="张管家",
        their_side="王经理",
        summary="了解经营情况",
        problems=[visits.Problem(title=f"问题 {n}", body="走访中企业反映的问题。") for n in range(problems)],
    )


def _close(appeal: Appeal, cast, *, solved: bool) -> None:
    lifecycle.dispatch_appeal(appeal, to=cast.market_a, by=cast.dispatcher_a)
    lifecycle.sign_appeal(Appeal.objects.get(pk=appeal.pk), by=cast.handler_a)
    lifecycle.answer_appeal(
        Appeal.objects.get(pk=appeal.pk), answer="已协调。", outcome=Outcome.SOLVED, by=cast.handler_a
    )
    lifecycle.rate_appeal(Appeal.objects.get(pk=appeal.pk), level=4, solved=solved, by=cast.ent_user_a1)
    assert Appeal.objects.get(pk=appeal.pk).status == Status.CLOSED


@pytest.fixture
def world(cast):
    """Period [today-30, today-10]; three targets of zone A:
    ent_a1 (steward_a): visited twice in the period, the first visit raising three appeals;
    ent_a2 (steward_a2): visited only before and after the period (the later visit raises one appeal);
    ent_a3 (steward_a): never visited."""
    ent_a3 = make_enterprise(USCC_A3, "示例精密机械有限公司", cast.zone_a, cast.steward_a)
    campaign = make_campaign(cast, starts_ago=30, ends_in=5)
    services.add_target_pairs(
        campaign,
        [
            (cast.ent_a1.pk, cast.steward_a.pk),
            (cast.ent_a2.pk, cast.steward_a2.pk),
            (ent_a3.pk, cast.steward_a.pk),
        ],
        by=cast.dispatcher_a,
        source="test",
    )
    first = _visit(cast.ent_a1, cast.steward_a, 25, problems=3)
    _visit(cast.ent_a1, cast.steward_a, 15)
    _visit(cast.ent_a2, cast.steward_a2, 35)
    _visit(cast.ent_a2, cast.steward_a2, 5, problems=1)
    solved, unsolved, _open = Appeal.objects.filter(visit_link__visit=first).order_by("pk")
    _close(solved, cast, solved=True)
    _close(unsolved, cast, solved=False)
    campaign = services.update_campaign(
        campaign,
        by=cast.dispatcher_a,
        version=campaign.version,
        ends_on=services.today() - timedelta(days=10),
    )
    return campaign


def test_coverage_counts_each_target_once_and_only_visits_within_the_period(world, cast):
    figures = services.coverage(world)
    assert (figures.overall.visited, figures.overall.total) == (1, 3)
    assert figures.overall.percent == "33.3%"
    assert figures.overall.rate == pytest.approx(1 / 3)
    assert [(s.key, s.visited, s.total) for s in figures.by_steward] == [
        (cast.steward_a.pk, 1, 2),
        (cast.steward_a2.pk, 0, 1),
    ]
    assert [(z.key, z.visited, z.total) for z in figures.by_zone] == [(cast.zone_a.pk, 1, 3)]
    # Three appeals from the visit in the period (one closed and solved, one closed unsolved, one
    # open); the appeal raised after the period does not count.
    assert (figures.problems.raised, figures.problems.closed, figures.problems.solved) == (3, 2, 1)


def test_a_stewards_own_view_counts_its_targets_only(world, cast):
    mine = services.coverage(world, steward=cast.steward_a2)
    assert (mine.overall.visited, mine.overall.total) == (0, 1)
    assert mine.problems.raised == 0


def test_the_list_annotation_agrees_with_coverage(world):
    row = services.with_coverage(Campaign.objects.filter(pk=world.pk)).get()
    assert (row.visited_count, row.target_count) == (1, 3)  # type: ignore[attr-defined]


def test_moving_the_period_changes_who_counts(world, cast):
    services.update_campaign(
        world, by=cast.dispatcher_a, version=world.version, ends_on=services.today() - timedelta(days=4)
    )
    figures = services.coverage(Campaign.objects.get(pk=world.pk))
    # ent_a2's visit five days ago is now inside the period, with its appeal.
    assert (figures.overall.visited, figures.overall.total) == (2, 3)
    assert figures.problems.raised == 4


def test_an_empty_campaign_shows_a_dash_not_a_division_by_zero(cast, login):
    campaign = make_campaign(cast)
    figures = services.coverage(campaign)
    assert (figures.overall.visited, figures.overall.total, figures.overall.rate) == (0, 0, None)
    assert figures.overall.percent == "—"
    assert [(z.visited, z.total, z.percent) for z in figures.by_zone] == [(0, 0, "—")]
    assert figures.by_steward == []
    page = login(cast.dispatcher_a).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "—" in page
    body = login(cast.dispatcher_a).get(f"/api/campaigns/{campaign.pk}/coverage/").json()
    assert body["overall"] == {"visited": 0, "total": 0, "rate": None}


def test_coverage_page_and_api_show_the_same_figures(world, cast, login):
    page = login(cast.supervisor_a).get(f"/campaigns/{world.pk}/").content.decode()
    assert "33.3%" in page and "（1/3）" in page
    body = login(cast.leader_a).get(f"/api/campaigns/{world.pk}/coverage/").json()
    assert body["overall"] == {"visited": 1, "total": 3, "rate": pytest.approx(1 / 3)}
    assert body["problems"] == {"raised": 3, "closed": 2, "solved": 1}
    # The steward's API view: its own targets.
    body = login(cast.steward_a2).get(f"/api/campaigns/{world.pk}/coverage/").json()
    assert body["overall"]["total"] == 1
    # The problems behind each figure, on the campaign's own list.
    client = login(cast.dispatcher_a)
    for kind, count in (("raised", 3), ("closed", 2), ("solved", 1)):
        response = client.get(f"/campaigns/{world.pk}/problems/?kind={kind}")
        assert response.context["page"].paginator.count == count, kind
        assert f'href="/campaigns/{world.pk}/problems/?kind={kind}"' in page


def test_coverage_query_count_does_not_grow_with_targets(world, cast, django_assert_num_queries):
    campaign = Campaign.objects.get(pk=world.pk)
    with django_assert_num_queries(5):
        services.coverage(campaign)
    more = [
        make_enterprise(with_check_digit(f"91320591MA00005{n:02d}"), f"企业{n}", cast.zone_a, cast.steward_a2)
        for n in range(5)
    ]
    services.update_campaign(
        campaign, by=cast.dispatcher_a, version=campaign.version, ends_on=services.today()
    )
    services.add_target_pairs(
        campaign, [(e.pk, e.steward_id) for e in more], by=cast.dispatcher_a, source="test"
    )
    campaign = Campaign.objects.get(pk=world.pk)
    with django_assert_num_queries(5):
        assert services.coverage(campaign).overall.total == 8
