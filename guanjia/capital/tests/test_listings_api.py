"""The listings API: scoped reads (another zone's promoter 404, an enterprise user and the 三员 403),
who may write (a leader's move 403 before its input is read, a promoter's correction 403), the rules'
messages, version conflicts (409), masking of phones, the raise-as-appeal endpoint and the figures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from guanjia.appeals.models import Appeal
from guanjia.capital import listings
from guanjia.capital.models import IntermediaryRole, ListingCandidate, ListingStage
from guanjia.capital.tests.helpers import candidate_of, days_ago, place
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db
S = ListingStage
LISTINGS = "/api/capital/listings/"
PROBLEMS = "/api/capital/listing-problems/"


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def candidate(cast):
    return candidate_of(cast, entered=40)


def test_readers_list_their_scope_and_others_are_refused(cast, candidate):
    other = candidate_of(cast, enterprise=cast.ent_a2)
    place(cast, cast.ent_a1, "集成电路")
    body = api(cast.leader_a).get(LISTINGS).json()
    assert [row["id"] for row in body["results"]] == [candidate.pk, other.pk]
    first = body["results"][0]
    assert (first["enterprise_name"], first["uscc"], first["stage"], first["days_in_stage"]) == (
        "示例智能制造有限公司",
        cast.ent_a1.uscc,
        S.CULTIVATING,
        40,
    )
    assert first["chains"] == ["集成电路"] and body["results"][1]["chains"] == []
    steward = api(cast.steward_a).get(LISTINGS).json()
    assert [row["id"] for row in steward["results"]] == [candidate.pk]
    for user in (cast.ent_user_a1, cast.sysadmin, cast.auditor, cast.dispatcher_a):
        assert api(user).get(LISTINGS).status_code == 403, user
    promoter_b = make_user("promoter_b", cast.zone_b, Role.PROMOTER)
    assert api(promoter_b).get(LISTINGS).json()["results"] == []
    assert api(promoter_b).get(f"{LISTINGS}{candidate.pk}/").status_code == 404
    assert api(cast.steward_a2).get(f"{LISTINGS}{candidate.pk}/").status_code == 404


def test_a_promoter_creates_and_a_second_entry_is_a_400(cast):
    response = api(cast.promoter_a).post(
        LISTINGS, {"enterprise": cast.ent_a2.pk, "board": "chinext", "stage": "restructuring"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["stage"], response.json()["board"], response.json()["version"]) == (
        "restructuring",
        "chinext",
        1,
    )
    again = api(cast.promoter_a).post(
        LISTINGS, {"enterprise": cast.ent_a2.pk, "board": "main"}, format="json"
    )
    assert again.status_code == 400 and "已在上市后备企业库中" in again.content.decode()
    assert (
        api(cast.promoter_a)
        .post(LISTINGS, {"enterprise": cast.ent_b1.pk, "board": "main"}, format="json")
        .status_code
        == 400
    )
    assert api(cast.leader_a).post(LISTINGS, {}, format="json").status_code == 403
    assert api(cast.steward_a).post(LISTINGS, {}, format="json").status_code == 403


def test_move_forward_stale_version_and_who_may_not(cast, candidate):
    url = f"{LISTINGS}{candidate.pk}/move/"
    for user in (cast.leader_a, cast.supervisor_a, cast.steward_a):
        assert api(user).post(url, {}, format="json").status_code == 403, user
    body = {"to": "tutoring", "on": days_ago(5).isoformat(), "version": 1}
    moved = api(cast.promoter_a).post(url, body, format="json")
    assert moved.status_code == 200, moved.content
    assert (moved.json()["stage"], moved.json()["version"]) == ("tutoring", 2)
    assert [m["to_stage"] for m in moved.json()["moves"]] == ["cultivating", "tutoring"]
    stale = api(cast.promoter_a).post(url, {**body, "to": "filed"}, format="json")
    assert stale.status_code == 409
    back = api(cast.promoter_a).post(
        url, {"to": "restructuring", "on": days_ago(1).isoformat(), "version": 2}, format="json"
    )
    assert back.status_code == 400 and "只能向后推进" in back.content.decode()
    assert ListingCandidate.objects.get(pk=candidate.pk).stage == S.TUTORING


def test_correct_is_for_leaders_and_supervisors_with_a_reason(cast, candidate):
    listings.move_stage(candidate, to=S.FILED, on=days_ago(3), by=cast.promoter_a)
    url = f"{LISTINGS}{candidate.pk}/correct/"
    for user in (cast.promoter_a, cast.steward_a):
        assert api(user).post(url, {}, format="json").status_code == 403, user
    body = {"to": "restructuring", "on": days_ago(10).isoformat(), "version": 2}
    assert api(cast.supervisor_a).post(url, {**body, "reason": ""}, format="json").status_code == 400
    done = api(cast.supervisor_a).post(url, {**body, "reason": "误录为申报受理"}, format="json")
    assert done.status_code == 200, done.content
    moves = done.json()["moves"]
    assert [(m["to_stage"], m["is_correction"], m["voided"]) for m in moves] == [
        ("cultivating", False, False),
        ("restructuring", True, False),  # by date: the correction says it was entered 10 days ago
        ("filed", False, True),
    ]


def test_intermediary_phone_is_masked_for_readers_who_are_not_writers(cast, candidate):
    url = f"{LISTINGS}{candidate.pk}/intermediaries/"
    body = {"role": "sponsor", "firm": "中信建投证券", "contact_person": "周敏", "phone": "13900001234"}
    assert api(cast.leader_a).post(url, body, format="json").status_code == 403
    created = api(cast.promoter_a).post(url, body, format="json")
    assert created.status_code == 201 and created.json()["phone"] == "13900001234"
    detail = f"{LISTINGS}{candidate.pk}/"
    assert api(cast.promoter_a).get(detail).json()["intermediaries"][0]["phone"] == "13900001234"
    for reader in (cast.leader_a, cast.supervisor_a, cast.steward_a):
        assert api(reader).get(detail).json()["intermediaries"][0]["phone"] == "139****1234", reader


def test_a_problem_is_raised_as_an_appeal_by_the_steward_only(cast, candidate):
    created = api(cast.promoter_a).post(
        f"{LISTINGS}{candidate.pk}/problems/", {"text": "环评主体需变更"}, format="json"
    )
    assert created.status_code == 201
    problem_id = created.json()["id"]
    url = f"{PROBLEMS}{problem_id}/raise/"
    for user in (cast.promoter_a, cast.leader_a):
        assert api(user).post(url, {}, format="json").status_code == 403, user
    assert api(cast.steward_a2).post(url, {}, format="json").status_code == 404  # not its enterprise
    raised = api(cast.steward_a).post(url, {}, format="json")
    assert raised.status_code == 200, raised.content
    appeal = Appeal.objects.get()
    assert (raised.json()["appeal"], raised.json()["appeal_status"]) == (appeal.pk, "待受理")
    assert api(cast.steward_a).post(url, {}, format="json").status_code == 409
    shown = api(cast.leader_a).get(f"{LISTINGS}{candidate.pk}/").json()["problems"][0]
    assert (shown["appeal"], shown["appeal_status"]) == (appeal.pk, "待受理")


def test_supports_and_figures(cast, candidate):
    url = f"{LISTINGS}{candidate.pk}/supports/"
    body = {"what": "上市辅导奖励", "amount": "100.00", "granted_on": days_ago(1).isoformat()}
    assert api(cast.supervisor_a).post(url, body, format="json").status_code == 403
    assert api(cast.promoter_a).post(url, body, format="json").status_code == 201
    listings.add_intermediary(
        candidate, role=IntermediaryRole.AUDITOR, firm="天健会计师事务所", by=cast.promoter_a
    )
    listings.move_stage(candidate, to=S.RESTRUCTURING, on=days_ago(10), by=cast.promoter_a)
    place(cast, cast.ent_a1, "新能源")

    figures = api(cast.leader_city).get(f"{LISTINGS}figures/").json()

    assert figures["total"] == 1
    assert [(row["stage"], row["count"]) for row in figures["by_stage"]][:2] == [
        ("cultivating", 0),
        ("restructuring", 1),
    ]
    assert figures["by_chain"] == [{"chain": "新能源", "count": 1}]
    assert figures["averages"][0] == {"stage": "cultivating", "stage_name": "培育", "n": 1, "days": 30.0}
    assert figures["days_in_stage"] == [
        {
            "id": candidate.pk,
            "enterprise_name": "示例智能制造有限公司",
            "stage": "restructuring",
            "days_in_stage": 10,
        }
    ]
    listed = api(cast.leader_a).get(LISTINGS).json()["results"][0]
    assert Decimal(listed["support_total"]) == Decimal("100") and listed["open_problems"] == 0
    assert api(cast.ent_user_a1).get(f"{LISTINGS}figures/").status_code == 403
