"""The practices API: /api/practices/ and /api/adoptions/ (+ advance, + effect); scoped reads, writes
through the services, and who may (zone B's supervisor 404, the leader 403 on writes, a cadre
proposes only from its own secondment)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from rest_framework.test import APIClient

from guanjia.core.roles import Role
from guanjia.exchange import practices as services
from guanjia.exchange.models import Adoption, AdoptionStage, Practice
from guanjia.exchange.tests.helpers import make_cadre, make_pairing, make_secondment
from guanjia.testing import make_user


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-06-15 10:00 +0800", tick=False):
        yield


@pytest.fixture
def people(cast):
    cast.cadre_a = make_cadre("cadre_a", cast.zone_a)
    cast.cadre_a2 = make_cadre("cadre_a2", cast.zone_a)
    cast.supervisor_b = make_user("supervisor_b", cast.centre_b, Role.SUPERVISOR)
    pairing = make_pairing(cast.zone_a, cast.supervisor_a)
    cast.secondment = make_secondment(pairing, cast.cadre_a, cast.supervisor_a)
    cast.secondment2 = make_secondment(
        pairing, cast.cadre_a2, cast.supervisor_a, host_unit="昆山市政务服务中心"
    )
    cast.plain = services.create_practice(
        by=cast.supervisor_a,
        zone=cast.zone_a,
        title="早九晚五、中午不下班",
        description="窗口中午轮流就餐。",
        seen_at="昆山高新区",
        learned_by="考察组",
    )
    cast.adoption = services.add_adoption(
        cast.plain,
        unit=cast.market_a,
        kpi="praise_rate",
        referenced_on=date(2026, 1, 10),
        by=cast.supervisor_a,
    )
    return cast


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_supervisor_records_reads_and_changes_a_practice(people):
    client = api(people.supervisor_a)
    created = client.post(
        "/api/practices/",
        {"title": "周例会", "description": "每周会商。", "seen_at": "昆山", "learned_by": "考察组"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["zone"] == people.zone_a.pk  # its only zone
    assert body["stage_counts"] == {"reference": 0, "trial": 0, "rollout": 0}
    assert body["adoptions"] == []
    listed = client.get("/api/practices/").json()
    assert {row["title"] for row in listed["results"]} == {"周例会", "早九晚五、中午不下班"}
    detail = client.get(f"/api/practices/{people.plain.pk}/").json()
    assert detail["stage_counts"]["reference"] == 1
    assert detail["adoptions"][0]["unit_name"] == "高新区市场监管局"
    assert detail["adoptions"][0]["next_stage"] == "trial"
    patched = client.patch(
        f"/api/practices/{people.plain.pk}/", {"title": "早九晚五", "version": 1}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    stale = client.patch(f"/api/practices/{people.plain.pk}/", {"title": "又改", "version": 1}, format="json")
    assert stale.status_code == 409
    missing = client.post("/api/practices/", {"title": "无地点", "description": "内容"}, format="json")
    assert missing.status_code == 400 and "学习地点" in missing.json()["detail"]


def test_filters(people):
    client = api(people.leader_a)
    assert [r["id"] for r in client.get("/api/practices/", {"stage": "reference"}).json()["results"]] == [
        people.plain.pk
    ]
    assert client.get("/api/practices/", {"stage": "none"}).json()["results"] == []
    assert client.get("/api/practices/", {"stage": "bogus"}).status_code == 400
    assert len(client.get("/api/adoptions/", {"practice": people.plain.pk}).json()["results"]) == 1
    assert client.get("/api/adoptions/", {"stage": "trial"}).json()["results"] == []


def test_a_cadre_proposes_only_from_its_own_secondment(people):
    client = api(people.cadre_a)
    own = client.post(
        "/api/practices/",
        {"secondment": people.secondment.pk, "title": "一窗通办", "description": "内容"},
        format="json",
    )
    assert own.status_code == 201, own.content
    assert own.json()["secondment"] == people.secondment.pk and own.json()["seen_at"] == "昆山高新区管委会"
    other = client.post(
        "/api/practices/",
        {"secondment": people.secondment2.pk, "title": "并联审批", "description": "内容"},
        format="json",
    )
    assert other.status_code == 400 and "secondment" in other.json()
    bare = client.post(
        "/api/practices/",
        {"title": "并联审批", "description": "内容", "seen_at": "昆山", "learned_by": "我"},
        format="json",
    )
    assert bare.status_code == 400
    assert not Practice.objects.filter(title="并联审批").exists()
    # It reads its own practice, not the others; it never records an adoption.
    assert [r["title"] for r in client.get("/api/practices/").json()["results"]] == ["一窗通办"]
    assert client.get(f"/api/practices/{people.plain.pk}/").status_code == 404
    refused = client.post(
        "/api/adoptions/",
        {
            "practice": own.json()["id"],
            "unit": people.zone_a.pk,
            "kpi": "praise_rate",
            "referenced_on": "2026-06-01",
        },
        format="json",
    )
    assert refused.status_code == 403


def test_adoptions_are_recorded_and_advanced_one_step(people):
    client = api(people.supervisor_a)
    created = client.post(
        "/api/adoptions/",
        {
            "practice": people.plain.pk,
            "unit": people.centre_a.pk,
            "kpi": "solved_rate",
            "referenced_on": "2026-03-02",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["stage"] == "reference" and created.json()["kpi_label"] == "实际解决率"
    again = client.post(
        "/api/adoptions/",
        {
            "practice": people.plain.pk,
            "unit": people.centre_a.pk,
            "kpi": "solved_rate",
            "referenced_on": "2026-03-02",
        },
        format="json",
    )
    assert again.status_code == 400 and "已在采纳" in again.json()["detail"]
    pk = created.json()["id"]
    skip = client.post(
        f"/api/adoptions/{pk}/advance/",
        {"to_stage": "rollout", "on": "2026-04-01", "version": 1},
        format="json",
    )
    assert skip.status_code == 400 and "只能进入“试行”" in skip.json()["detail"]
    early = client.post(
        f"/api/adoptions/{pk}/advance/",
        {"to_stage": "trial", "on": "2026-03-01", "version": 1},
        format="json",
    )
    assert early.status_code == 400 and "不能早于借鉴日期" in early.json()["detail"]
    ok = client.post(
        f"/api/adoptions/{pk}/advance/",
        {"to_stage": "trial", "on": "2026-04-01", "version": 1},
        format="json",
    )
    assert (
        ok.status_code == 200
        and ok.json()["trial_on"] == "2026-04-01"
        and ok.json()["next_stage"] == "rollout"
    )
    stale = client.post(
        f"/api/adoptions/{pk}/advance/",
        {"to_stage": "rollout", "on": "2026-05-01", "version": 1},
        format="json",
    )
    assert stale.status_code == 409
    done = client.post(
        f"/api/adoptions/{pk}/advance/",
        {"to_stage": "rollout", "on": "2026-05-01", "version": 2},
        format="json",
    )
    assert done.status_code == 200 and done.json()["next_stage"] is None


def test_the_effect_gives_both_sides_with_n(people):
    body = api(people.leader_a).get(f"/api/adoptions/{people.adoption.pk}/effect/").json()
    assert (body["pivot"], body["pivot_stage"], body["excluded"]["quarter"]) == (
        "2026-01-10",
        "reference",
        "2026Q1",
    )
    assert [q["quarter"] for q in body["before"]] == ["2025Q3", "2025Q4"]
    assert [q["quarter"] for q in body["after"]] == ["2026Q2", "2026Q3"]
    assert [q["state"] for q in body["after"]] == ["running", "future"]
    assert body["after"][0]["last_day"] == "2026-06-30"
    assert all(q["denominator"] == 0 and q["value"] is None and q["shown"] == "—" for q in body["before"])
    assert (body["change"], body["improved"], body["change_shown"]) == (None, None, "—")
    wider = api(people.leader_a).get(f"/api/adoptions/{people.adoption.pk}/effect/", {"quarters": 4}).json()
    assert len(wider["before"]) == 4
    bad = api(people.leader_a).get(f"/api/adoptions/{people.adoption.pk}/effect/", {"quarters": 9})
    assert bad.status_code == 400


def test_zone_bs_supervisor_gets_404_and_the_leader_403_on_writes(people):
    other = api(people.supervisor_b)
    assert other.get("/api/practices/").json()["results"] == []
    assert other.get(f"/api/practices/{people.plain.pk}/").status_code == 404
    assert (
        other.patch(
            f"/api/practices/{people.plain.pk}/", {"title": "x", "version": 1}, format="json"
        ).status_code
        == 404
    )
    assert other.get(f"/api/adoptions/{people.adoption.pk}/effect/").status_code == 404
    advance = other.post(
        f"/api/adoptions/{people.adoption.pk}/advance/",
        {"to_stage": "trial", "on": "2026-04-01", "version": 1},
        format="json",
    )
    assert advance.status_code == 404
    adopt = other.post(
        "/api/adoptions/",
        {
            "practice": people.plain.pk,
            "unit": people.zone_a.pk,
            "kpi": "praise_rate",
            "referenced_on": "2026-03-02",
        },
        format="json",
    )
    assert adopt.status_code == 400 and "practice" in adopt.json()
    leader = api(people.leader_a)
    assert leader.get(f"/api/practices/{people.plain.pk}/").status_code == 200
    # Refused before its input is read.
    assert leader.post("/api/practices/", {}, format="json").status_code == 403
    assert leader.patch(f"/api/practices/{people.plain.pk}/", {}, format="json").status_code == 403
    assert leader.post("/api/adoptions/", {}, format="json").status_code == 403
    assert leader.post(f"/api/adoptions/{people.adoption.pk}/advance/", {}, format="json").status_code == 403
    assert Adoption.objects.get(pk=people.adoption.pk).stage == AdoptionStage.REFERENCE
    for outsider in (people.handler_a, people.promoter_a, people.ent_user_a1):
        assert api(outsider).get("/api/practices/").status_code == 403
    assert APIClient().get("/api/practices/").status_code in (401, 403)
