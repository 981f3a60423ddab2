"""Permission-matrix rows of the exchange app: practices (see __init__.py for the shape).

Practices and adoptions: the zone's supervisors and leaders read, its supervisors write (the leader
gets 403 on every write). The seconded cadre (mx_cadre_a) reads and writes the practice of its own
secondment, reads that practice's adoptions, and gets 404 on a practice that did not come from it; it
never records nor advances an adoption (403). Everything here is zone A's; no actor is another zone's
supervisor (test_practices_pages and test_practices_api cover that one's 404).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from guanjia.core.models import User
from guanjia.exchange import practices as services
from guanjia.exchange.access import today
from guanjia.exchange.tests.helpers import make_pairing, make_secondment
from guanjia.tests_matrix.matrix import (
    CADRE,
    FORBIDDEN,
    GET,
    LEADER,
    PATCH,
    POST,
    SUP,
    R,
    Row,
    post_only,
)

READERS = [SUP, LEADER, CADRE]
PROPOSERS = [SUP, CADRE]
KEEPERS = [SUP]

ROWS: list[Row] = [
    # --- pages ------------------------------------------------------------------------------------------
    R("exchange:practices", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("exchange:practice-new", GET, default=FORBIDDEN, ok=PROPOSERS),
    R("exchange:practice-new", POST, body="pr_practice_new", default=FORBIDDEN, ok=PROPOSERS),
    R("exchange:practice", GET, "pr_practice", default=FORBIDDEN, ok=READERS),
    R(
        "exchange:practice",
        GET,
        "pr_practice_plain",
        default=FORBIDDEN,
        ok=[SUP, LEADER],
        not_found=[CADRE],
        note="not from the cadre's secondment",
    ),
    R("exchange:practice-edit", GET, "pr_practice", default=FORBIDDEN, ok=PROPOSERS),
    R(
        "exchange:practice-edit",
        POST,
        "pr_practice",
        body="pr_practice_edit",
        default=FORBIDDEN,
        ok=PROPOSERS,
    ),
    R("exchange:adoption-new", GET, "pr_practice", default=FORBIDDEN, ok=KEEPERS),
    R("exchange:adoption-new", POST, "pr_practice", body="pr_adoption_new", default=FORBIDDEN, ok=KEEPERS),
    post_only("exchange:adoption-advance", "pr_adoption"),
    R("exchange:adoption-advance", POST, "pr_adoption", body="pr_advance", default=FORBIDDEN, ok=KEEPERS),
    R("exchange:adoption", GET, "pr_adoption", default=FORBIDDEN, ok=READERS),
    # --- API ----------------------------------------------------------------------------------------------
    R("practice-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("practice-list", POST, body="api:pr_practice", default=FORBIDDEN, ok=PROPOSERS),
    R("practice-detail", GET, "pr_practice", default=FORBIDDEN, ok=READERS),
    R("practice-detail", GET, "pr_practice_plain", default=FORBIDDEN, ok=[SUP, LEADER], not_found=[CADRE]),
    R("practice-detail", PATCH, "pr_practice", body="api:pr_practice_patch", default=FORBIDDEN, ok=PROPOSERS),
    R("adoption-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
    R("adoption-list", POST, body="api:pr_adoption", default=FORBIDDEN, ok=KEEPERS),
    R("adoption-detail", GET, "pr_adoption", default=FORBIDDEN, ok=READERS),
    R("adoption-advance", POST, "pr_adoption", body="api:pr_advance", default=FORBIDDEN, ok=KEEPERS),
    R("adoption-effect", GET, "pr_adoption", default=FORBIDDEN, ok=READERS),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """A secondment of mx_cadre_a (a pairing of its own), the practice the cadre proposed from it with
    高新区市场监管局 referencing it a month ago, and a practice the supervisor recorded without a secondment."""
    cadre = User.objects.get(username="mx_cadre_a")
    pairing = make_pairing(cast.zone_a, cast.supervisor_a, partner_unit="嘉兴经开区（矩阵）")
    secondment = make_secondment(pairing, cadre, cast.supervisor_a, host_unit="嘉兴经开区管委会")
    practice = services.create_practice(
        by=cadre,
        secondment=secondment,
        title="早九晚五、中午不下班",
        description="政务服务窗口中午轮流就餐，不停办。",
    )
    adoption = services.add_adoption(
        practice,
        unit=cast.market_a,
        kpi="final_satisfaction",
        referenced_on=today() - timedelta(days=30),
        by=cast.supervisor_a,
    )
    plain = services.create_practice(
        by=cast.supervisor_a,
        zone=cast.zone_a,
        title="企业诉求周例会",
        description="每周一召开诉求会商会。",
        seen_at="昆山高新区",
        learned_by="考察组",
    )
    objects.update(
        pr_secondment=secondment, pr_practice=practice, pr_adoption=adoption, pr_practice_plain=plain
    )


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        "pr_practice": {"pk": objects["pr_practice"].pk},
        "pr_practice_plain": {"pk": objects["pr_practice_plain"].pk},
        "pr_adoption": {"pk": objects["pr_adoption"].pk},
    }


def bodies(world: Any) -> dict[str, Any]:
    cast, objects = world.cast, world.objects
    secondment, practice, adoption = objects["pr_secondment"], objects["pr_practice"], objects["pr_adoption"]
    day = today().isoformat()
    practice_form = {
        "title": "早九晚五、中午不下班（矩阵）",
        "description": "窗口中午不停办。",
        "seen_at": "嘉兴经开区管委会",
        "learned_by": "矩阵干部",
    }
    prefix = f"advance-{adoption.pk}"
    return {
        "pr_practice_new": {**practice_form, "zone": cast.zone_a.pk, "secondment": secondment.pk},
        "pr_practice_edit": {**practice_form, "secondment": secondment.pk, "version": practice.version},
        "pr_adoption_new": {"unit": cast.centre_a.pk, "kpi": "praise_rate", "referenced_on": day},
        "pr_advance": {
            f"{prefix}-to_stage": "trial",
            f"{prefix}-on": day,
            f"{prefix}-version": adoption.version,
        },
        "api:pr_practice": {"secondment": secondment.pk, "title": "矩阵API经验", "description": "做法内容。"},
        "api:pr_practice_patch": {"title": "早九晚五（修订）", "version": practice.version},
        "api:pr_adoption": {
            "practice": practice.pk,
            "unit": cast.centre_a.pk,
            "kpi": "praise_rate",
            "referenced_on": day,
        },
        "api:pr_advance": {"to_stage": "trial", "on": day, "version": adoption.version},
    }
