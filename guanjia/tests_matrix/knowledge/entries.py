"""Permission-matrix rows of the knowledge app: entries (see __init__.py for the shape).

Zone A's 市场监管局 (handler_a's and department_head's department) keeps a published entry and a draft,
and answered a 咨询 appeal of ent_a1 that may become an entry. The published entry is read by every
business account of zone A and by ent_a1's user; zone B's get 404. The draft is read by its keepers and
zone A's dispatcher, supervisor and leader only (everyone else who reads the knowledge base: 404).
Only the keepers (HANDLER, HEAD) write: a keeper of another department of zone A (HANDLER_X, HEAD_X,
CO) sees the published entry and gets 403 on it. Only enterprise users give feedback. The staff's
pages are not for enterprise users (they search on the portal); no-role and 三员 accounts get 403.
"""

from __future__ import annotations

from typing import Any

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Channel, Handling, Outcome
from guanjia.knowledge import entries
from guanjia.tests_matrix.matrix import (
    CADRE,
    CO,
    DISP,
    DISP_X,
    ENT,
    ENT_X,
    FORBIDDEN,
    GET,
    HANDLER,
    HANDLER_X,
    HANDLER_Z,
    HEAD,
    HEAD_X,
    LEADER,
    PATCH,
    POST,
    PROMOTER,
    STEWARD,
    STEWARD_X,
    SUP,
    R,
    Row,
    post_only,
)

ZONE_A_STAFF = [STEWARD, DISP, HANDLER, HANDLER_X, CO, HEAD, HEAD_X, SUP, LEADER, PROMOTER, CADRE]
ZONE_B_STAFF = [STEWARD_X, DISP_X, HANDLER_Z]
STAFF = [*ZONE_A_STAFF, *ZONE_B_STAFF]
BUSINESS = [ENT, ENT_X, *STAFF]
ANY_KEEPER = [HANDLER, HANDLER_X, HANDLER_Z, CO, HEAD, HEAD_X]
KEEPERS = [HANDLER, HEAD]  # of the entries' department
OTHER_KEEPERS = [HANDLER_X, CO, HEAD_X]  # of zone A, another department
DRAFT_READERS = [HANDLER, HEAD, DISP, SUP, LEADER]
# Who turns the answered 咨询 appeal into an entry: the answering department's keepers and the zone's
# dispatcher; the keepers of departments it was never given, and zone B's dispatcher, do not see it.
FROM_APPEAL_OK = [HANDLER, HEAD, DISP]
FROM_APPEAL_NOT_FOUND = [HANDLER_X, HANDLER_Z, CO, HEAD_X, DISP_X]


def _keep(name: str, method: str, target: str, body: str = "") -> Row:
    """A keeper's write on the published entry: its keepers; other keepers of zone A see it (403), zone
    B's keeper does not (404); everyone else 403."""
    return R(name, method, target, body=body, default=FORBIDDEN, ok=KEEPERS, not_found=[HANDLER_Z])


ROWS: list[Row] = [
    # --- pages --------------------------------------------------------------------------------------
    R("knowledge:list", GET, body="q:kb_search", default=FORBIDDEN, ok=STAFF, note="a scoped search"),
    R("knowledge:entry-new", GET, default=FORBIDDEN, ok=ANY_KEEPER),
    R("knowledge:entry-new", POST, body="kb_form", default=FORBIDDEN, ok=ANY_KEEPER),
    R("knowledge:entry", GET, "kb_entry", default=FORBIDDEN, ok=ZONE_A_STAFF, not_found=ZONE_B_STAFF),
    R(
        "knowledge:entry",
        GET,
        "kb_draft",
        default=FORBIDDEN,
        ok=DRAFT_READERS,
        not_found=[a for a in STAFF if a not in DRAFT_READERS],
        note="a draft: its keepers and the zone's overseers",
    ),
    _keep("knowledge:entry-edit", GET, "kb_entry"),
    _keep("knowledge:entry-edit", POST, "kb_entry", "kb_edit"),
    post_only("knowledge:entry-publish", "kb_draft"),
    R(
        "knowledge:entry-publish",
        POST,
        "kb_draft",
        body="kb_draft_version",
        default=FORBIDDEN,
        ok=KEEPERS,
        not_found=[*OTHER_KEEPERS, HANDLER_Z],
    ),
    post_only("knowledge:entry-archive", "kb_entry"),
    _keep("knowledge:entry-archive", POST, "kb_entry", "kb_version"),
    R(
        "knowledge:entry-from-appeal",
        GET,
        "kb_appeal",
        default=FORBIDDEN,
        ok=FROM_APPEAL_OK,
        not_found=FROM_APPEAL_NOT_FOUND,
    ),
    R(
        "knowledge:entry-from-appeal",
        POST,
        "kb_appeal",
        body="kb_from_appeal",
        default=FORBIDDEN,
        ok=FROM_APPEAL_OK,
        not_found=FROM_APPEAL_NOT_FOUND,
    ),
    R(
        "knowledge:unanswered",
        GET,
        default=FORBIDDEN,
        ok=[*ANY_KEEPER, DISP, DISP_X, SUP, LEADER],
    ),
    R("knowledge:panel", GET, body="q:kb_search", default=FORBIDDEN, ok=BUSINESS),
    R("knowledge:portal", GET, body="q:kb_search", default=FORBIDDEN, ok=[ENT, ENT_X, STEWARD, STEWARD_X]),
    post_only("knowledge:feedback", "kb_entry"),
    R(
        "knowledge:feedback",
        POST,
        "kb_entry",
        body="kb_feedback",
        default=FORBIDDEN,
        ok=[ENT],
        not_found=[ENT_X],
    ),
    # --- API ----------------------------------------------------------------------------------------
    R("knowledge-entry-list", GET, default=FORBIDDEN, ok=BUSINESS, note="a scoped list"),
    R(
        "knowledge-entry-list",
        POST,
        body="api:kb_entry",
        default=FORBIDDEN,
        ok=ANY_KEEPER,
        note="a dispatcher creates entries from appeals only (the service's 403 otherwise)",
    ),
    R(
        "knowledge-entry-detail",
        GET,
        "kb_entry",
        default=FORBIDDEN,
        ok=[ENT, *ZONE_A_STAFF],
        not_found=[ENT_X, *ZONE_B_STAFF],
    ),
    _keep("knowledge-entry-detail", PATCH, "kb_entry", "api:kb_patch"),
    R(
        "knowledge-entry-publish",
        POST,
        "kb_draft",
        body="api:kb_draft_version",
        default=FORBIDDEN,
        ok=KEEPERS,
        not_found=[*OTHER_KEEPERS, HANDLER_Z],
    ),
    _keep("knowledge-entry-archive", POST, "kb_entry", "api:kb_version"),
    R(
        "knowledge-entry-feedback",
        POST,
        "kb_entry",
        body="api:kb_feedback",
        default=FORBIDDEN,
        ok=[ENT],
        not_found=[ENT_X],
    ),
    R("knowledge-search", GET, body="q:kb_search", default=FORBIDDEN, ok=BUSINESS, note="a scoped search"),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """Zone A's 市场监管局 entries (by handler_a), and a 咨询 appeal of ent_a1 its head answered."""
    entry = entries.create_entry(
        by=cast.handler_a, question="矩阵企业开办需要哪些材料", answer="营业执照申请书、章程、身份证明。"
    )
    entries.publish(entry, by=cast.handler_a, version=entry.version)
    draft = entries.create_entry(by=cast.handler_a, question="矩阵草稿条目", answer="尚未核对的解答。")
    appeal = lifecycle.submit_appeal(
        cast.ent_a1,
        title="矩阵咨询：企业开办流程",
        body="想了解企业开办流程。",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
        category=objects["land"],
        handling=Handling.CONSULT,
    )
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    lifecycle.sign_appeal(appeal, by=objects["head_a"])
    lifecycle.answer_appeal(
        appeal, answer="请携带营业执照申请材料到窗口办理。", outcome=Outcome.SOLVED, by=objects["head_a"]
    )
    appeal.refresh_from_db()
    objects.update(kb_entry=entry, kb_draft=draft, kb_appeal=appeal)


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "kb_entry": {"pk": objects["kb_entry"].pk},
        "kb_draft": {"pk": objects["kb_draft"].pk},
        "kb_appeal": {"appeal": objects["kb_appeal"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    objects = world.objects
    entry, draft = objects["kb_entry"], objects["kb_draft"]
    form = {"question": "矩阵新条目：社保怎么办理", "answer": "到社保窗口办理。", "keywords": "社保"}
    return {
        "q:kb_search": {"q": "企业开办材料"},
        "kb_form": form,
        "kb_edit": {**form, "question": "矩阵企业开办需要哪些材料（修订）", "version": entry.version},
        "kb_version": {"version": entry.version},
        "kb_draft_version": {"version": draft.version},
        "kb_from_appeal": {
            **form,
            "question": "企业开办流程",
            "department": world.cast.market_a.pk,
        },
        "kb_feedback": {"resolved": "1", "q": "企业开办材料"},
        "api:kb_entry": {"question": "矩阵API条目", "answer": "解答。"},
        "api:kb_patch": {"keywords": "开办 执照", "version": entry.version},
        "api:kb_version": {"version": entry.version},
        "api:kb_draft_version": {"version": draft.version},
        "api:kb_feedback": {"resolved": True, "query": "企业开办材料"},
    }
