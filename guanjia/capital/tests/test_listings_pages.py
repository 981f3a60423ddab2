"""The listing pages: the list with its figures and filters, the export, a new candidate, the candidate
page with the forms each role may use, and every write from it; who may not (403) and out of scope (404)."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from guanjia.appeals.models import Appeal
from guanjia.capital import listings
from guanjia.capital.models import IntermediaryRole, ListingCandidate, ListingStage
from guanjia.capital.tests.helpers import candidate_of, days_ago, place
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db
S = ListingStage


@pytest.fixture
def candidate(cast):
    return candidate_of(cast, entered=40)


def test_the_list_shows_stage_cards_chain_counts_and_filters(cast, candidate, login):
    other = candidate_of(cast, enterprise=cast.ent_a2, stage=S.TUTORING, entered=5)
    chain = place(cast, cast.ent_a1, "集成电路")
    page = login(cast.leader_a).get(reverse("capital:listings"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "示例智能制造有限公司" in html and "示例新材料科技有限公司" in html
    assert page.context["figures"].total == 2
    assert page.context["figures"].by_chain == [("集成电路", 1), ("未上链", 1)]
    by_chain = login(cast.leader_a).get(reverse("capital:listings"), {"chain": chain.pk})
    assert [c.pk for c in by_chain.context["page"]] == [candidate.pk]
    by_stage = login(cast.leader_a).get(reverse("capital:listings"), {"stage": S.TUTORING})
    assert [c.pk for c in by_stage.context["page"]] == [other.pk]
    assert by_stage.context["figures"].total == 2  # the cards count every stage
    assert "新增上市后备企业" not in html
    assert "新增上市后备企业" in login(cast.promoter_a).get(reverse("capital:listings")).content.decode()


def test_who_may_not_open_the_pages(cast, candidate, login):
    for user in (cast.ent_user_a1, cast.dispatcher_a, cast.handler_a, cast.sysadmin, cast.auditor):
        client = login(user)
        assert client.get(reverse("capital:listings")).status_code == 403, user
        assert client.get(reverse("capital:listing", args=[candidate.pk])).status_code == 403, user
    promoter_b = make_user("promoter_b", cast.zone_b, Role.PROMOTER)
    assert login(promoter_b).get(reverse("capital:listing", args=[candidate.pk])).status_code == 404
    assert login(cast.steward_a2).get(reverse("capital:listing", args=[candidate.pk])).status_code == 404
    assert login(cast.steward_a).get(reverse("capital:listing", args=[candidate.pk])).status_code == 200
    for user in (cast.leader_a, cast.steward_a):
        assert login(user).get(reverse("capital:listing-new")).status_code == 403


def test_a_promoter_enters_a_candidate_from_the_form(cast, login):
    response = login(cast.promoter_a).post(
        reverse("capital:listing-new"),
        {
            "enterprise": cast.ent_a2.pk,
            "board": "bse",
            "stage": "cultivating",
            "stage_entered_on": days_ago(3).isoformat(),
        },
    )
    candidate = ListingCandidate.objects.get(enterprise=cast.ent_a2)
    assert response.status_code == 302 and response["Location"] == reverse(
        "capital:listing", args=[candidate.pk]
    )
    future = login(cast.promoter_a).post(
        reverse("capital:listing-new"),
        {
            "enterprise": cast.ent_a1.pk,
            "board": "bse",
            "stage": "cultivating",
            "stage_entered_on": "2999-01-01",
        },
    )
    assert future.status_code == 200 and "不能晚于今天" in future.content.decode()


def test_the_candidate_page_offers_each_role_its_own_forms(cast, candidate, login):
    url = reverse("capital:listing", args=[candidate.pk])
    promoter = login(cast.promoter_a).get(url)
    assert promoter.context["move_form"] is not None and "correct_form" not in promoter.context
    leader = login(cast.leader_a).get(url)
    assert "move_form" not in leader.context and leader.context["correct_form"] is not None
    steward = login(cast.steward_a).get(url)
    assert "move_form" not in steward.context and "correct_form" not in steward.context


def test_moves_and_corrections_from_the_page(cast, candidate, login):
    move = reverse("capital:listing-move", args=[candidate.pk])
    body = {"move-to": S.RESTRUCTURING, "move-on": days_ago(10).isoformat(), "move-version": 1}
    assert login(cast.steward_a).post(move, body).status_code == 403
    assert login(cast.leader_a).post(move, body).status_code == 403
    assert login(cast.promoter_a).get(move).status_code == 405
    done = login(cast.promoter_a).post(move, body)
    assert done.status_code == 302
    assert ListingCandidate.objects.get(pk=candidate.pk).stage == S.RESTRUCTURING
    stale = login(cast.promoter_a).post(move, {**body, "move-to": S.TUTORING}, follow=True)
    assert "刚被他人调整" in stale.content.decode()

    correct = reverse("capital:listing-correct", args=[candidate.pk])
    fix = {"correct-to": S.CULTIVATING, "correct-on": days_ago(40).isoformat(), "correct-version": 2}
    assert login(cast.promoter_a).post(correct, {**fix, "correct-reason": "误录"}).status_code == 403
    no_reason = login(cast.leader_a).post(correct, fix)
    assert (
        no_reason.status_code == 200
        and ListingCandidate.objects.get(pk=candidate.pk).stage == S.RESTRUCTURING
    )
    assert login(cast.leader_a).post(correct, {**fix, "correct-reason": "误录"}).status_code == 302
    assert ListingCandidate.objects.get(pk=candidate.pk).stage == S.CULTIVATING
    assert AuditRecord.objects.filter(action="capital.listing_correct", actor=cast.leader_a).count() == 1


def test_intermediaries_problems_supports_and_the_raise_button(cast, candidate, login):
    promoter = login(cast.promoter_a)
    assert (
        promoter.post(
            reverse("capital:listing-intermediary", args=[candidate.pk]),
            {
                "intermediary-role": "law_firm",
                "intermediary-firm": "国浩律师事务所",
                "intermediary-phone": "13700001111",
            },
        ).status_code
        == 302
    )
    assert (
        promoter.post(
            reverse("capital:listing-problem", args=[candidate.pk]), {"problem-text": "历史沿革需确认"}
        ).status_code
        == 302
    )
    assert (
        promoter.post(
            reverse("capital:listing-support", args=[candidate.pk]),
            {
                "support-what": "股改奖励",
                "support-amount": "50",
                "support-granted_on": days_ago(1).isoformat(),
            },
        ).status_code
        == 302
    )
    url = reverse("capital:listing", args=[candidate.pk])
    leader_html = login(cast.leader_a).get(url).content.decode()
    assert "137****1111" in leader_html and "13700001111" not in leader_html
    assert "13700001111" in promoter.get(url).content.decode()
    assert 'data-testid="raise"' not in promoter.get(url).content.decode()

    problem = candidate.problems.get()
    raise_url = reverse("capital:listing-problem-raise", args=[problem.pk])
    assert login(cast.promoter_a).post(raise_url).status_code == 403
    steward = login(cast.steward_a)
    assert 'data-testid="raise"' in steward.get(url).content.decode()
    assert steward.post(raise_url).status_code == 302
    appeal = Appeal.objects.get()
    shown = steward.get(url).content.decode()
    assert f"#{appeal.pk}" in shown and "待受理" in shown
    assert 'data-testid="raise"' not in shown
    assert "合计 50.00 万元" in shown


def test_the_export_downloads_the_filtered_rows(cast, candidate, login):
    candidate_of(cast, enterprise=cast.ent_a2, board="bse")
    listings.add_intermediary(candidate, role=IntermediaryRole.SPONSOR, firm="华泰证券", by=cast.promoter_a)
    response = login(cast.supervisor_a).get(reverse("capital:listings-export"), {"board": "star"})
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["示例智能制造有限公司"]
    assert AuditRecord.objects.get(action="capital.listing_export").detail["filters"] == {"board": "star"}
    assert login(cast.ent_user_a1).get(reverse("capital:listings-export")).status_code == 403


def test_the_nav_shows_the_pipeline_to_its_readers(cast, login):
    assert "上市后备企业" in login(cast.steward_a).get(reverse("home")).content.decode()
    assert "上市后备企业" not in login(cast.ent_user_a1).get(reverse("home")).content.decode()
