"""Permission-matrix rows of the investment app: leads (see __init__.py for the shape).

The zone's promoters and leaders read leads (role_required / investment.access.may_read); only its
promoters write them, so the leader gets 403 on every write; every other role 403. Everything here is
zone A's; no actor is another zone's promoter (test_leads_pages and test_leads_api cover that one's 404).
"""

from __future__ import annotations

from typing import Any

from guanjia.core.roles import Role
from guanjia.investment.access import today
from guanjia.investment.models import LeadContact, LeadSource, LeadStatus
from guanjia.investment.tests.helpers import make_chain, make_lead, make_target, node
from guanjia.testing import make_user
from guanjia.tests_matrix.matrix import FORBIDDEN, GET, LEADER, PATCH, POST, PROMOTER, R, Row, post_only

DELETE = "DELETE"
READERS = [LEADER, PROMOTER]
KEEPERS = [PROMOTER]

ROWS: list[Row] = [
    # --- pages ---------------------------------------------------------------------------------------
    R("investment:leads", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("investment:lead-new", GET, default=FORBIDDEN, ok=KEEPERS),
    R("investment:lead-new", POST, body="lead_new", default=FORBIDDEN, ok=KEEPERS),
    R("investment:lead", GET, "lead", default=FORBIDDEN, ok=READERS),
    R("investment:lead-edit", GET, "lead", default=FORBIDDEN, ok=KEEPERS),
    R("investment:lead-edit", POST, "lead", body="lead_edit", default=FORBIDDEN, ok=KEEPERS),
    *[
        row
        for name, target, body in (
            ("investment:lead-move", "lead", "lead_move"),
            ("investment:lead-reassign", "lead", "lead_reassign"),
            ("investment:lead-contact-add", "lead", "lead_contact"),
            ("investment:lead-contact-remove", "lead_contact", ""),
            ("investment:lead-log-add", "lead", "lead_log"),
        )
        for row in (
            post_only(name, target),
            R(name, POST, target, body=body, default=FORBIDDEN, ok=KEEPERS),
        )
    ],
    # --- API -----------------------------------------------------------------------------------------
    R("investment-lead-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("investment-lead-list", POST, body="api:lead", default=FORBIDDEN, ok=KEEPERS),
    R("investment-lead-detail", GET, "lead", default=FORBIDDEN, ok=READERS),
    R("investment-lead-detail", PATCH, "lead", body="api:lead_patch", default=FORBIDDEN, ok=KEEPERS),
    R("investment-lead-move", POST, "lead", body="api:lead_move", default=FORBIDDEN, ok=KEEPERS),
    R("investment-lead-reassign", POST, "lead", body="api:lead_reassign", default=FORBIDDEN, ok=KEEPERS),
    R("investment-lead-contacts", POST, "lead", body="api:lead_contact", default=FORBIDDEN, ok=KEEPERS),
    R("investment-lead-contact", DELETE, "api_lead_contact", default=FORBIDDEN, ok=KEEPERS),
    R("investment-lead-logs", POST, "lead", body="api:lead_log", default=FORBIDDEN, ok=KEEPERS),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """A chain of its own (so no other part's names collide), a target covering 电芯, and a 新线索 on it
    with one contact; a second promoter of zone A to hand the lead to."""
    chain = make_chain(cast.zone_a, cast.promoter_a, name="线索矩阵链")
    link = node(chain, "电芯")
    target = make_target(cast.zone_a, "线索矩阵目标企业", link)
    lead = make_lead(target, cast.promoter_a, node=link, summary="矩阵线索")
    objects["lead_node"] = link
    objects["lead_target"] = target
    objects["lead"] = lead
    objects["lead_contact"] = LeadContact.objects.create(lead=lead, name="李总", phone="13912345678")
    objects["lead_promoter2"] = make_user("mx_promoter_a2", cast.zone_a, Role.PROMOTER)


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "lead": {"pk": objects["lead"].pk},
        "lead_contact": {"pk": objects["lead"].pk, "contact": objects["lead_contact"].pk},
        "api_lead_contact": {"pk": objects["lead"].pk, "contact_id": objects["lead_contact"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    objects = world.objects
    lead, target = objects["lead"], objects["lead_target"]
    day = today().isoformat()
    return {
        "lead_new": {
            "target": target.pk,
            "node": objects["lead_node"].pk,
            "source": LeadSource.EXPO,
            "source_detail": "新能源展会",
            "owner": world.cast.promoter_a.pk,
            "contact_name": "王经理",
            "contact_phone": "13800000000",
        },
        "lead_edit": {
            "target": target.pk,
            "node": objects["lead_node"].pk,
            "source": LeadSource.FUND,
            "summary": "基金推荐",
            "version": lead.version,
        },
        "lead_move": {"to": LeadStatus.CONTACTING, "version": lead.version},
        "lead_reassign": {"owner": objects["lead_promoter2"].pk, "version": lead.version},
        "lead_contact": {"contact-name": "王经理", "contact-phone": "13800000000"},
        "lead_log": {"log-happened_on": day, "log-mode": "phone", "log-summary": "电话沟通投资意向"},
        "api:lead": {"target": target.pk, "source": LeadSource.EXPO, "contacts": [{"name": "王经理"}]},
        "api:lead_patch": {"summary": "对方来访", "version": lead.version},
        "api:lead_move": {"to": LeadStatus.CONTACTING, "version": lead.version},
        "api:lead_reassign": {"owner": objects["lead_promoter2"].pk, "version": lead.version},
        "api:lead_contact": {"name": "王经理", "phone": "13800000000"},
        "api:lead_log": {"happened_on": day, "mode": "phone", "summary": "电话沟通投资意向"},
    }
