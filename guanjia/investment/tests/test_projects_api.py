"""The project API: list and filters, detail with milestones, signings, arrivals and approvals, create
(directly and from a lead, once), partial update with version, stage moves, signings, arrivals,
registration, agent, approval start/finish, the acceleration report — and who may not."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from guanjia.enterprises.models import Enterprise
from guanjia.investment import projects
from guanjia.investment.models import ApprovalItem, LeadStatus, Project, Stage
from guanjia.investment.tests.helpers import make_lead, make_target, new_project, signed_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_2026_11_20", "approval_templates")]

NEW_USCC = "91110000802100433B"
BASE = "/api/investment/projects/"


def post(client, path: str, body: dict):
    return client.post(path, body, content_type="application/json")


def test_list_filters_and_detail(cast, login):
    late = new_project(cast, "逾期项目", promised={Stage.NEGOTIATING: date(2026, 11, 1)})
    deal = signed_project(cast, "已签约项目")
    projects.record_arrival(deal, amount=Decimal("100"), arrived_on=date(2026, 11, 1), by=cast.promoter_a)
    client = login(cast.leader_a)

    listing = client.get(BASE).json()
    assert listing["count"] == 2
    assert client.get(BASE, {"overdue": "true"}).json()["results"][0]["id"] == late.pk
    assert [r["id"] for r in client.get(BASE, {"stage": "signed"}).json()["results"]] == [deal.pk]
    assert client.get(BASE, {"overdue": "maybe"}).status_code == 400

    detail = client.get(f"{BASE}{deal.pk}/").json()
    assert [m["stage"] for m in detail["milestones"]] == list(Stage.values)
    assert detail["investment_counted"] == "50000.00" and detail["investment_arrived"] == "100.00"
    assert detail["signings"][0]["event"] == "直接签约"
    assert len(detail["approvals"]) == ApprovalItem.objects.filter(project=deal).count() > 0
    late_detail = client.get(f"{BASE}{late.pk}/").json()
    assert late_detail["overdue_milestones"] == 1
    assert [m["overdue"] for m in late_detail["milestones"]][:2] == [False, True]


def test_scope_and_roles(cast, login, promoter_b):
    project = new_project(cast)
    assert login(promoter_b).get(f"{BASE}{project.pk}/").status_code == 404
    assert login(promoter_b).get(BASE).json()["count"] == 0
    for who in (cast.steward_a, cast.ent_user_a1, cast.sysadmin):
        assert login(who).get(BASE).status_code == 403
    leader = login(cast.leader_a)
    assert post(leader, BASE, {"name": "x", "investment_planned": "1"}).status_code == 403
    assert (
        post(
            leader, f"{BASE}{project.pk}/advance/", {"to": "negotiating", "on": "2026-11-20", "version": 1}
        ).status_code
        == 403
    )
    assert (
        login(promoter_b)
        .post(
            f"{BASE}{project.pk}/advance/",
            {"to": "negotiating", "on": "2026-11-20", "version": 1},
            content_type="application/json",
        )
        .status_code
        == 404
    )


def test_create_directly_and_from_a_lead_once(cast, login):
    client = login(cast.promoter_a)
    response = post(
        client,
        BASE,
        {
            "name": "储能电站项目",
            "investment_planned": "50000",
            "land_mu": "80",
            "promised": {"signed": "2026-12-20"},
            "on": "2026-10-01",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (
        body["zone"] == cast.zone_a.pk and body["stage"] == "planning" and body["owner"] == cast.promoter_a.pk
    )
    assert body["milestones"][0]["reached_on"] == "2026-10-01"
    assert body["milestones"][2] == {
        "stage": "signed",
        "promised_on": "2026-12-20",
        "reached_on": None,
        "overdue": False,
    }

    lead = make_lead(make_target(cast.zone_a), cast.promoter_a, status=LeadStatus.NEGOTIATING)
    first = post(client, BASE, {"lead": lead.pk, "name": "线索项目", "investment_planned": "1"})
    assert first.status_code == 201 and first.json()["stage"] == "negotiating"
    second = post(client, BASE, {"lead": lead.pk, "name": "线索项目", "investment_planned": "1"})
    assert second.status_code == 400 and "不能转为项目" in second.json()["detail"]
    assert Project.objects.filter(lead=lead).count() == 1

    increase = post(
        client,
        BASE,
        {
            "name": "增资项目",
            "kind": "increase",
            "enterprise": cast.ent_a1.pk,
            "investment_planned": "8000",
            "investment_base": "5000",
        },
    )
    assert increase.status_code == 201 and increase.json()["investment_counted"] == "3000.00"
    other_zone = post(
        client,
        BASE,
        {"name": "x", "kind": "increase", "enterprise": cast.ent_b1.pk, "investment_planned": "1"},
    )
    assert other_zone.status_code == 400 and "enterprise" in other_zone.json()


def test_partial_update_needs_the_version(cast, login):
    project = new_project(cast)
    client = login(cast.promoter_a)
    response = client.patch(
        f"{BASE}{project.pk}/", {"land_mu": "99", "version": 1}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["land_mu"] == "99.00"
    stale = client.patch(
        f"{BASE}{project.pk}/", {"name": "改名", "version": 1}, content_type="application/json"
    )
    assert stale.status_code == 409
    assert (
        client.patch(f"{BASE}{project.pk}/", {"name": "改名"}, content_type="application/json").status_code
        == 400
    )


def test_advance_correct_signings_arrivals_agent_register(cast, login):
    project = new_project(cast)
    client = login(cast.promoter_a)

    advanced = post(
        client,
        f"{BASE}{project.pk}/advance/",
        {"to": "signed", "on": "2026-11-18", "event": "云签约", "version": 1},
    )
    assert advanced.status_code == 200 and advanced.json()["stage"] == "signed"
    assert advanced.json()["approvals"]
    backwards = post(
        client, f"{BASE}{project.pk}/advance/", {"to": "planning", "on": "2026-11-18", "version": 2}
    )
    assert backwards.status_code == 400 and "只能向后推进" in backwards.json()["detail"]

    signing = post(client, f"{BASE}{project.pk}/signings/", {"event": "招商大会", "signed_on": "2026-11-19"})
    assert signing.status_code == 201 and signing.json()["event"] == "招商大会"
    arrival = post(client, f"{BASE}{project.pk}/arrivals/", {"amount": "300.5", "arrived_on": "2026-11-19"})
    assert arrival.status_code == 201 and arrival.json()["amount"] == "300.50"
    assert (
        post(client, f"{BASE}{project.pk}/arrivals/", {"amount": "0", "arrived_on": "2026-11-19"}).status_code
        == 400
    )
    agent = post(client, f"{BASE}{project.pk}/agent/", {"agent": cast.promoter_a.pk})
    assert agent.status_code == 200 and agent.json()["agent"] == cast.promoter_a.pk

    bad_code = post(
        client, f"{BASE}{project.pk}/register/", {"uscc": "12345", "name": "示例储能科技有限公司"}
    )
    assert bad_code.status_code == 400 and "uscc" in bad_code.json()
    registered = post(
        client, f"{BASE}{project.pk}/register/", {"uscc": NEW_USCC, "name": "示例储能科技有限公司"}
    )
    assert registered.status_code == 200
    assert registered.json()["enterprise"] == Enterprise.objects.get(uscc=NEW_USCC).pk

    version = Project.objects.get(pk=project.pk).version
    corrected = post(
        client, f"{BASE}{project.pk}/correct/", {"to": "negotiating", "reason": "误录", "version": version}
    )
    assert corrected.status_code == 200 and corrected.json()["stage"] == "negotiating"
    missing = post(client, f"{BASE}{project.pk}/correct/", {"to": "planning", "version": version + 1})
    assert missing.status_code == 400 and "reason" in missing.json()


def test_approval_items_start_finish_and_acceleration(cast, login, promoter_b):
    project = signed_project(cast)
    item = ApprovalItem.objects.get(project=project, name="建筑工程施工许可证")
    client = login(cast.promoter_a)

    started = post(client, f"/api/investment/approval-items/{item.pk}/start/", {"on": "2026-09-29"})
    assert started.status_code == 200 and started.json()["promised_by"] == "2026-10-09"
    finished = post(client, f"/api/investment/approval-items/{item.pk}/finish/", {"on": "2026-10-12"})
    assert finished.status_code == 200 and finished.json()["actual_days"] == 5
    again = post(client, f"/api/investment/approval-items/{item.pk}/finish/", {"on": "2026-10-12"})
    assert again.status_code == 400
    assert (
        post(
            login(promoter_b), f"/api/investment/approval-items/{item.pk}/start/", {"on": "2026-10-12"}
        ).status_code
        == 404
    )
    assert (
        post(
            login(cast.leader_a), f"/api/investment/approval-items/{item.pk}/start/", {"on": "2026-10-12"}
        ).status_code
        == 403
    )

    report = login(cast.leader_a).get("/api/investment/approvals/acceleration/").json()
    assert (report["start"], report["end"]) == ("2026-01-01", "2026-12-31")
    assert report["overall"]["n"] == 1
    assert report["rows"] == [
        {
            "name": "建筑工程施工许可证",
            "n": 1,
            "statutory": 7.0,
            "promised": 3.0,
            "actual": 5.0,
            "on_time": 0,
            "speedup": pytest.approx(1 - 5 / 7),
        }
    ]
    assert login(promoter_b).get("/api/investment/approvals/acceleration/").json()["overall"]["n"] == 0
    assert login(cast.steward_a).get("/api/investment/approvals/acceleration/").status_code == 403
    wrong = login(cast.leader_a).get(
        "/api/investment/approvals/acceleration/", {"start": "2026-12-01", "end": "2026-01-01"}
    )
    assert wrong.status_code == 400
