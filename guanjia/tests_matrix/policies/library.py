"""Permission-matrix rows of the policies app: library (see __init__.py for the shape).

Zone A's 市场监管局 (handler_a's and department_head's department) keeps a policy covering zone A,
with one benefit item and one attachment. Every business account of zone A reads it (the enterprise
user of ent_a1 included); those of zone B get 404. Only its keepers (HANDLER, HEAD) write it: a keeper
of another department of zone A (HANDLER_X, HEAD_X, CO) sees it and gets 403, zone B's handler gets 404.
Any keeper may create a policy (of its own department). No-role and 三员 accounts get 403 everywhere.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from guanjia.policies import library
from guanjia.tests_matrix.matrix import (
    CADRE,
    CO,
    DELETE,
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

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

# Who reads zone A's policy, and who of the readers is out of its coverage (zone B: 404).
ZONE_A_READERS = [ENT, STEWARD, DISP, HANDLER, HANDLER_X, CO, HEAD, HEAD_X, SUP, LEADER, PROMOTER, CADRE]
ZONE_B_READERS = [ENT_X, STEWARD_X, DISP_X, HANDLER_Z]
READERS = [*ZONE_A_READERS, *ZONE_B_READERS]
# The handlers and heads of any department: each may create policies of its own.
ANY_KEEPER = [HANDLER, HANDLER_X, HANDLER_Z, CO, HEAD, HEAD_X]
KEEPERS = [HANDLER, HEAD]  # of the policy's department


def _read(name: str, target: str) -> Row:
    return R(name, GET, target, default=FORBIDDEN, ok=ZONE_A_READERS, not_found=ZONE_B_READERS)


def _keep(name: str, method: str, target: str, body: str = "") -> Row:
    """A write on zone A's policy: its keepers; zone B's keeper does not see it (404); everyone else 403."""
    return R(name, method, target, body=body, default=FORBIDDEN, ok=KEEPERS, not_found=[HANDLER_Z])


ROWS: list[Row] = [
    # --- pages --------------------------------------------------------------------------------------
    R("policies:index", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("policies:new", GET, default=FORBIDDEN, ok=ANY_KEEPER),
    R("policies:new", POST, body="lib_policy_form", default=FORBIDDEN, ok=ANY_KEEPER),
    _read("policies:detail", "lib_policy"),
    _keep("policies:edit", GET, "lib_policy"),
    _keep("policies:edit", POST, "lib_policy", "lib_policy_edit"),
    _keep("policies:item-new", GET, "lib_policy"),
    _keep("policies:item-new", POST, "lib_policy", "lib_item_form"),
    _keep("policies:item-edit", GET, "lib_item"),
    _keep("policies:item-edit", POST, "lib_item", "lib_item_edit"),
    post_only("policies:item-delete", "lib_item"),
    _keep("policies:item-delete", POST, "lib_item", "lib_item_version"),
    _read("policies:attachment", "lib_attachment"),
    post_only("policies:attachments-add", "lib_policy"),
    _keep("policies:attachments-add", POST, "lib_policy", "lib_attachments"),
    # --- API ----------------------------------------------------------------------------------------
    R("policy-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("policy-list", POST, body="api:lib_policy", default=FORBIDDEN, ok=ANY_KEEPER),
    _read("policy-detail", "lib_policy"),
    _keep("policy-detail", PATCH, "lib_policy", "api:lib_policy_patch"),
    R("benefit-item-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R(
        "benefit-item-list",
        POST,
        body="api:lib_item",
        default=FORBIDDEN,
        ok=KEEPERS,
        bad_input=[HANDLER_Z],
        note="another department's keeper is refused by the service (403); zone B's policy 'does not exist' (400)",
    ),
    _read("benefit-item-detail", "lib_item"),
    _keep("benefit-item-detail", PATCH, "lib_item", "api:lib_item_patch"),
    _keep("benefit-item-detail", DELETE, "lib_item"),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """Zone A's 市场监管局 policy (by handler_a), with one item and one attachment."""
    policy = library.create_policy(
        by=cast.handler_a,
        title="矩阵研发补贴政策",
        issuer="高新区管委会",
        document_number="矩阵〔2026〕1号",
        effective_on=date(2026, 1, 1),
    )
    item = library.add_item(policy, by=cast.handler_a, name="矩阵研发费用补贴", scales=["small"])
    (attachment,) = library.add_attachments(
        policy, [SimpleUploadedFile("矩阵政策.pdf", PDF, "application/pdf")], by=cast.handler_a
    )
    objects.update(lib_policy=policy, lib_item=item, lib_attachment=attachment)


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "lib_policy": {"pk": objects["lib_policy"].pk},
        "lib_item": {"pk": objects["lib_item"].pk},
        "lib_attachment": {"pk": objects["lib_attachment"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    objects = world.objects
    policy, item = objects["lib_policy"], objects["lib_item"]
    policy_form = {"title": "矩阵新政策", "issuer": "高新区管委会", "effective_on": "2026-02-01"}
    item_form = {
        "name": "矩阵兑现事项",
        "category": "subsidy",
        "disburse_within_days": "20",
        "scales": ["small"],
    }
    return {
        "lib_policy_form": policy_form,
        "lib_policy_edit": {**policy_form, "title": "矩阵研发补贴政策（修订）", "version": policy.version},
        "lib_item_form": item_form,
        "lib_item_edit": {**item_form, "version": item.version},
        "lib_item_version": {"version": item.version},
        "lib_attachments": lambda: {
            "attachments": SimpleUploadedFile("申报指南.pdf", PDF, "application/pdf")
        },
        "api:lib_policy": policy_form,
        "api:lib_policy_patch": {"title": "矩阵研发补贴政策（API）", "version": policy.version},
        "api:lib_item": {"policy": policy.pk, "name": "矩阵API兑现事项", "scales": ["small"], "min_years": 1},
        "api:lib_item_patch": {"name": "矩阵研发费用补贴（API）", "version": item.version},
    }
