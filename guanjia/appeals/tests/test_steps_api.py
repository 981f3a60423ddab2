"""The handling steps through the API: one POST per step with the version the client read, the
decisions on an extension or a review and the dispute of a rating; the right actor succeeds, each
wrong actor gets 404 (out of scope) or 403 (in scope, not allowed), and the answers match the
committed schema."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client

from guanjia.appeals import lifecycle
from guanjia.appeals.models import (
    Appeal,
    Assignment,
    Channel,
    Extension,
    Outcome,
    Pause,
    Rating,
    RatingLevel,
    Status,
)
from guanjia.appeals.tests.test_steps_pages import (
    MONDAY,
    add_people,
    answered,
    at,
    dispatched,
    fresh,
    lead,
    signed,
    submit,
)
from guanjia.core.models import OrgUnit
from guanjia.enterprises.tests.test_api import assert_matches_schema, openapi  # noqa: F401 - a fixture


def url(appeal: Appeal, step: str = "") -> str:
    return f"/api/appeals/{appeal.pk}/{step + '/' if step else ''}"


def post(client: Client, path: str, body: dict[str, Any]):
    return client.post(path, body, content_type="application/json")


def step(client: Client, appeal: Appeal, name: str, body: dict[str, Any] | None = None):
    return post(client, url(appeal, name), {"version": fresh(appeal).version, **(body or {})})


def refused_by(cast, login, appeal, name, body, *, hidden=(), visible=()) -> None:
    """Out of scope: 404; in scope but not allowed: 403; and nothing changed."""
    before = fresh(appeal).version
    for user in hidden:
        assert step(login(user), appeal, name, body).status_code == 404, user
    for user in visible:
        response = step(login(user), appeal, name, body)
        assert response.status_code == 403, (user, response.content)
    assert fresh(appeal).version == before


@pytest.fixture
def people(routed):
    return add_people(routed)


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


# --- 补充材料 ----------------------------------------------------------------------------------------


def test_pause_and_resume(people, land, login, monday):
    cast = people
    appeal = signed(cast, land, co=[cast.tax_a])
    body = {"request": "请提供现场照片"}
    refused_by(
        cast,
        login,
        appeal,
        "pause",
        body,
        hidden=(cast.handler_centre, cast.ent_user_a2, cast.steward_a2, cast.outsider, cast.supervisor_b),
        visible=(cast.handler_tax, cast.ent_user_a1, cast.steward_a, cast.supervisor_a, cast.dispatcher_a),
    )
    response = step(login(cast.handler_a), appeal, "pause", {})
    assert response.status_code == 400 and "request" in response.json()
    response = step(login(cast.handler_a), appeal, "pause", body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == Status.WAITING and "resume" in data["actions"]
    assert [(p["request"], p["resumed_at"]) for p in data["pauses"]] == [("请提供现场照片", None)]

    assert login(cast.ent_user_a1).get(url(appeal)).json()["actions"] == ["resume"]
    refused_by(
        cast,
        login,
        appeal,
        "resume",
        {"reply": "已补充"},
        hidden=(cast.ent_user_a2, cast.steward_a2, cast.handler_centre, cast.outsider),
        visible=(cast.supervisor_a, cast.dispatcher_a, cast.handler_tax, cast.leader_a),
    )
    monday.move_to(at(4))
    response = step(login(cast.steward_a), appeal, "resume", {"reply": "照片已补充"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == Status.SIGNED
    assert data["pauses"][0]["working_days"] == 2 and data["pauses"][0]["resumed_by_name"].startswith(
        "steward_a"
    )


def test_a_stale_version_is_a_conflict(people, land, login):
    cast = people
    appeal = signed(cast, land)
    response = post(login(cast.handler_a), url(appeal, "pause"), {"request": "x", "version": 1})
    assert response.status_code == 409 and "重新读取" in response.json()["detail"]
    assert not Pause.objects.exists()


# --- 延期 ------------------------------------------------------------------------------------------


def test_extension_request_and_decision(people, land, login):
    cast = people
    appeal = signed(cast, land)
    body = {"days": 3, "reason": "需现场勘查"}
    refused_by(
        cast,
        login,
        appeal,
        "extend",
        body,
        hidden=(cast.handler_centre, cast.steward_a2, cast.outsider),
        visible=(cast.steward_a, cast.ent_user_a1, cast.supervisor_a),
    )
    response = step(login(cast.handler_a), appeal, "extend", {"days": 31, "reason": "太久"})
    assert response.status_code == 400 and "1 到 30" in response.json()["detail"]
    response = step(login(cast.handler_a), appeal, "extend", {"days": 0, "reason": "x"})
    assert response.status_code == 400 and "days" in response.json()
    data = step(login(cast.handler_a), appeal, "extend", body).json()
    assert [(e["days"], e["state"], e["decidable"]) for e in data["extensions"]] == [(3, "pending", False)]
    assert "extend" not in data["actions"]
    row = login(cast.supervisor_a).get(url(appeal)).json()["extensions"][0]
    assert row["decidable"] is True

    decide = url(appeal, f"extensions/{row['id']}/decide")
    approve = {"approve": True, "note": "", "version": row["version"]}
    assert post(login(cast.supervisor_b), decide, approve).status_code == 404
    for wrong in (cast.leader_a, cast.dispatcher_a, cast.handler_a, cast.head_a):
        assert post(login(wrong), decide, approve).status_code == 403, wrong
    response = post(login(cast.supervisor_a), decide, {"approve": False, "version": row["version"]})
    assert response.status_code == 400 and "理由" in response.json()["detail"]
    response = post(login(cast.supervisor_a), decide, {**approve, "version": row["version"] + 1})
    assert response.status_code == 409
    response = post(login(cast.supervisor_a), decide, approve)
    assert response.status_code == 200, response.content
    decided = response.json()["extensions"][0]
    assert (decided["state"], decided["decided_by_name"][:12]) == ("approved", "supervisor_a")
    assert Extension.objects.get().new_due == lead(appeal).answer_due
    assert post(login(cast.supervisor_a), decide, approve).status_code == 409  # decided already
    assert post(login(cast.supervisor_a), url(appeal, "extensions/999/decide"), approve).status_code == 404


# --- 协办意见 and 答复审核 ----------------------------------------------------------------------------


def test_co_department_opinion(people, land, login):
    cast = people
    appeal = dispatched(cast, land, co=[cast.tax_a])
    assert login(cast.handler_tax).get(url(appeal)).json()["actions"] == ["opinion"]
    body = {"opinion": "可享受减免"}
    refused_by(
        cast,
        login,
        appeal,
        "opinion",
        body,
        hidden=(cast.handler_centre, cast.outsider, cast.ent_user_a2),
        visible=(cast.handler_a, cast.head_a, cast.steward_a, cast.ent_user_a1),
    )
    response = step(login(cast.handler_tax), appeal, "opinion", body)
    assert response.status_code == 200, response.content
    opinions = response.json()["opinions"]
    assert [(o["department"], o["opinion"]) for o in opinions] == [(cast.tax_a.pk, "可享受减免")]
    assert opinions[0]["given_at"] is not None
    assert step(login(cast.head_tax), appeal, "opinion", body).status_code == 409


def test_answer_approval(people, land, login):
    cast = people
    OrgUnit.objects.filter(pk=cast.market_a.pk).update(answers_need_approval=True)
    appeal = signed(cast, land)
    data = step(login(cast.handler_a), appeal, "answer", {"answer": "草稿", "outcome": "solved"}).json()
    assert data["status"] == Status.SIGNED and data["draft_answer"]["answer"] == "草稿"
    head = login(cast.head_a).get(url(appeal)).json()
    assert {"approve_answer", "reject_answer"} <= set(head["actions"]) and head["draft_answer"] is not None
    assert login(cast.handler_a2).get(url(appeal)).json()["draft_answer"] is None
    assert login(cast.dispatcher_a).get(url(appeal)).json()["draft_answer"] is None
    for name, body in (("approve_answer", {}), ("reject_answer", {"note": "改"})):
        refused_by(
            cast,
            login,
            appeal,
            name,
            body,
            hidden=(cast.head_tax, cast.outsider),
            visible=(cast.handler_a, cast.handler_a2, cast.supervisor_a, cast.ent_user_a1),
        )
    assert step(login(cast.head_a), appeal, "reject_answer", {}).status_code == 400
    data = step(login(cast.head_a), appeal, "reject_answer", {"note": "写明日期"}).json()
    assert data["draft_answer"] is None and data["status"] == Status.SIGNED
    assert step(login(cast.head_a), appeal, "approve_answer").status_code == 409  # nothing waits
    step(login(cast.handler_a), appeal, "answer", {"answer": "3 月 6 日前修复", "outcome": "solved"})
    response = step(login(cast.head_a), appeal, "approve_answer", {"answer": "3 月 6 日前修复完毕"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == Status.ANSWERED
    assert (lead(appeal).answer, lead(appeal).approved_by) == ("3 月 6 日前修复完毕", cast.head_a)


# --- 领导协调 --------------------------------------------------------------------------------------


def test_coordination(people, land, login):
    cast = people
    appeal = answered(cast, land)
    for text in ("第二次答复", None):
        lifecycle.rate_appeal(
            fresh(appeal), level=RatingLevel.DISSATISFIED, solved=False, by=cast.ent_user_a1
        )
        if text:
            lifecycle.answer_appeal(fresh(appeal), answer=text, outcome=Outcome.SOLVED, by=cast.handler_a)
    handler = login(cast.handler_a).get(url(appeal)).json()
    assert handler["needs_coordination"] is True and "answer" not in handler["actions"]
    assert "coordinate" in login(cast.leader_a).get(url(appeal)).json()["actions"]
    body = {"decision": "由市场监管局牵头"}
    refused_by(
        cast,
        login,
        appeal,
        "coordinate",
        body,
        hidden=(cast.leader_b, cast.outsider, cast.handler_centre),
        visible=(cast.supervisor_a, cast.dispatcher_a, cast.head_a, cast.ent_user_a1),
    )
    response = step(login(cast.leader_city), appeal, "coordinate", body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["coordination"] == "由市场监管局牵头" and data["needs_coordination"] is False
    assert "answer" in login(cast.handler_a).get(url(appeal)).json()["actions"]
    assert step(login(cast.leader_a), appeal, "coordinate", body).status_code == 409


# --- 申诉复核 --------------------------------------------------------------------------------------


def test_rating_dispute_and_review(people, land, login, monday):
    cast = people
    appeal = answered(cast, land)
    lifecycle.rate_appeal(fresh(appeal), level=RatingLevel.FAIRLY_SATISFIED, solved=True, by=cast.ent_user_a1)
    rating = Rating.objects.get()
    ratings = login(cast.handler_a).get(url(appeal)).json()["ratings"]
    assert [(r["id"], r["disputable"]) for r in ratings] == [(rating.pk, True)]
    assert login(cast.ent_user_a1).get(url(appeal)).json()["ratings"][0]["disputable"] is False
    dispute = url(appeal, f"ratings/{rating.pk}/dispute")
    body = {"reason": "企业误选"}
    for wrong in (cast.ent_user_a1, cast.steward_a, cast.supervisor_a, cast.dispatcher_a):
        assert post(login(wrong), dispute, body).status_code == 403, wrong
    for wrong in (cast.handler_centre, cast.outsider, cast.supervisor_b, cast.steward_a2):
        assert post(login(wrong), dispute, body).status_code == 404, wrong
    assert post(login(cast.handler_a), dispute, {}).status_code == 400
    response = post(login(cast.handler_a), dispute, body)
    assert response.status_code == 200, response.content
    review = response.json()["reviews"][0]
    assert (review["kind"], review["state"], review["rating_level"]) == ("rating", "pending", 3)
    assert post(login(cast.head_a), dispute, body).status_code == 409  # once per rating

    decide = url(appeal, f"reviews/{review['id']}/decide")
    changed = {"decision": "changed", "note": "核实已解决", "version": review["version"]}
    assert post(login(cast.supervisor_b), decide, changed).status_code == 404
    for wrong in (cast.leader_a, cast.dispatcher_a, cast.handler_a):
        assert post(login(wrong), decide, changed).status_code == 403, wrong
    response = post(login(cast.supervisor_a), decide, changed)
    assert response.status_code == 400 and "level" in response.json()
    response = post(login(cast.supervisor_a), decide, {**changed, "decision": "reopened", "level": 4})
    assert response.status_code == 400 and "decision" in response.json()
    response = post(login(cast.supervisor_a), decide, {**changed, "level": 4})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["reviews"][0]["state"] == "changed" and data["reviews"][0]["decided_level"] == 4
    assert data["ratings"][0]["reviewed_level"] == 4
    assert post(login(cast.supervisor_a), decide, {**changed, "level": 5}).status_code == 409


def test_decline_rating_goes_to_review(people, land, login):
    cast = people
    appeal = submit(cast, land)
    lifecycle.decline_appeal(appeal, reason="属民事纠纷", advice="诉讼", by=cast.dispatcher_a)
    assert login(cast.ent_user_a1).get(url(appeal)).json()["actions"] == ["rate"]
    assert login(cast.steward_a).get(url(appeal)).json()["actions"] == ["rate_on_behalf"]
    body = {"level": 1, "solved": False, "comment": "不认可"}
    refused_by(cast, login, appeal, "rate", body, hidden=(cast.ent_user_a2, cast.steward_a2, cast.handler_a))
    response = step(login(cast.ent_user_a1), appeal, "rate", body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == Status.DECLINED and data["actions"] == [] and data["rate_due"] is None
    review = data["reviews"][0]
    assert review["kind"] == "decline" and review["requested_by_name"].startswith("ent_user_a1")
    decide = url(appeal, f"reviews/{review['id']}/decide")
    response = post(
        login(cast.supervisor_a), decide, {"decision": "changed", "level": 4, "note": "x", "version": 1}
    )
    assert response.status_code == 400 and "decision" in response.json()
    response = post(
        login(cast.supervisor_a), decide, {"decision": "reopened", "note": "应予受理", "version": 1}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == Status.SUBMITTED


# --- 合并 ------------------------------------------------------------------------------------------


def test_merge(people, land, login):
    cast = people
    master = dispatched(cast, land, title="主诉求")
    child = submit(
        cast, land, enterprise=cast.ent_a2, by=cast.steward_a2, channel=Channel.STEWARD, title="重复"
    )
    other = lifecycle.submit_appeal(
        cast.ent_b1, title="经开区", body="b", channel=Channel.STEWARD, by=cast.steward_b
    )
    assert "merge" in login(cast.dispatcher_a).get(url(child)).json()["actions"]
    refused_by(
        cast,
        login,
        child,
        "merge",
        {"master": master.pk},
        hidden=(cast.dispatcher_b, cast.outsider, cast.ent_user_a1),
        visible=(cast.steward_a2, cast.ent_user_a2, cast.supervisor_a),
    )
    response = step(login(cast.dispatcher_a), child, "merge", {"master": other.pk})
    assert response.status_code == 400 and "不是本园区的诉求" in response.json()["master"][0]
    response = step(login(cast.dispatcher_a), child, "merge", {"master": child.pk})
    assert response.status_code == 400
    response = step(login(cast.dispatcher_a), child, "merge", {"master": master.pk, "note": "同一路段"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == Status.MERGED and data["master"]["id"] == master.pk
    assert data["master"]["answer"] == "" and data["master"]["answered_at"] is None
    assert login(cast.dispatcher_a).get(url(master)).json()["children"] == {
        "visible": [{"id": child.pk, "title": "重复", "status": "merged"}],
        "others": 0,
    }
    # The master's department sees the duplicates merged into its appeal: its answer is theirs.
    children = login(cast.handler_a).get(url(master)).json()["children"]
    assert [c["id"] for c in children["visible"]] == [child.pk] and children["others"] == 0
    lifecycle.sign_appeal(fresh(master), by=cast.handler_a)
    lifecycle.answer_appeal(fresh(master), answer="已修复", outcome=Outcome.SOLVED, by=cast.handler_a)
    owner = login(cast.ent_user_a2).get(url(child)).json()
    assert owner["master"]["answer"] == "已修复" and owner["actions"] == ["rate"]


# --- schema -----------------------------------------------------------------------------------------


def test_step_answers_match_the_committed_schema(people, land, login, openapi):  # noqa: F811
    cast = people
    appeal = signed(cast, land, co=[cast.tax_a], confidential=True)
    handler = login(cast.handler_a)
    extend = step(handler, appeal, "extend", {"days": 2, "reason": "会商"})
    extension = Extension.objects.get()
    pause = step(handler, appeal, "pause", {"request": "照片"})
    checks = [
        (extend, "/api/appeals/{id}/extend/", 200),
        (pause, "/api/appeals/{id}/pause/", 200),
        (step(handler, appeal, "pause", {"request": "再要"}), "/api/appeals/{id}/pause/", 409),
        (
            step(login(cast.handler_tax), appeal, "opinion", {"opinion": "同意"}),
            "/api/appeals/{id}/opinion/",
            200,
        ),
        (step(login(cast.ent_user_a1), appeal, "resume", {"reply": "好"}), "/api/appeals/{id}/resume/", 200),
        (
            post(
                login(cast.supervisor_a),
                url(appeal, f"extensions/{extension.pk}/decide"),
                {"approve": True, "version": 1},
            ),
            "/api/appeals/{id}/extensions/{extension_id}/decide/",
            200,
        ),
        (
            step(login(cast.steward_a), appeal, "extend", {"days": 1, "reason": "x"}),
            "/api/appeals/{id}/extend/",
            403,
        ),
        (handler.get(url(appeal)), "/api/appeals/{id}/", 200),
    ]
    for response, path, status in checks:
        assert response.status_code == status, (path, response.content)
        method = (
            "get"
            if path == "/api/appeals/{id}/" and status == 200 and response.request["REQUEST_METHOD"] == "GET"
            else "post"
        )
        assert_matches_schema(openapi, path, method, status, response.json())
    # The department does not learn who the enterprise is from the steps either.
    body = handler.get(url(appeal)).json()
    assert body["enterprise_name"] is None and body["pauses"][0]["resumed_by_name"] == "企业"
    assert Assignment.objects.get(appeal=appeal, is_lead=False).answer == "同意"
