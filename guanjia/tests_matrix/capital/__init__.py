"""Permission-matrix rows of the capital app: the listing pipeline (上市后备企业库).

The zone's promoters, leaders and supervisors read (role checks plus capital.access.may_read); a steward
reads its own enterprises' candidates, so another zone's steward opens the list (empty) but gets 404 on
ent_a1's candidate. The promoters write; the leaders and supervisors correct; the enterprise's steward
raises a problem as an appeal (the steward channel is its own). Everyone else gets 403.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from guanjia.capital import listings
from guanjia.capital.access import today
from guanjia.capital.models import Board, ListingStage
from guanjia.tests_matrix.matrix import (
    FORBIDDEN,
    GET,
    LEADER,
    POST,
    PROMOTER,
    STEWARD,
    STEWARD_X,
    SUP,
    R,
    Row,
    post_only,
)

READERS = [PROMOTER, LEADER, SUP, STEWARD]
LIST_READERS = [*READERS, STEWARD_X]  # a steward of another zone reads an empty list
WRITERS = [PROMOTER]
CORRECTORS = [LEADER, SUP]

ROWS: list[Row] = [
    # --- pages ---------------------------------------------------------------------------------------
    R("capital:listings", GET, default=FORBIDDEN, ok=LIST_READERS, note="a scoped list"),
    R("capital:listings-export", GET, default=FORBIDDEN, ok=LIST_READERS, note="a scoped, audited export"),
    R("capital:listing-new", GET, default=FORBIDDEN, ok=WRITERS),
    R("capital:listing-new", POST, body="listing_new", default=FORBIDDEN, ok=WRITERS),
    R("capital:listing", GET, "listing", default=FORBIDDEN, ok=READERS, not_found=[STEWARD_X]),
    *[
        row
        for name, body, ok in (
            ("capital:listing-move", "listing_move", WRITERS),
            ("capital:listing-correct", "listing_correct", CORRECTORS),
            ("capital:listing-intermediary", "listing_intermediary", WRITERS),
            ("capital:listing-problem", "listing_problem", WRITERS),
            ("capital:listing-support", "listing_support", WRITERS),
        )
        for row in (post_only(name, "listing"), R(name, POST, "listing", body=body, default=FORBIDDEN, ok=ok))
    ],
    post_only("capital:listing-problem-raise", "listing_problem"),
    R(
        "capital:listing-problem-raise",
        POST,
        "listing_problem",
        default=FORBIDDEN,
        ok=[STEWARD],
        not_found=[STEWARD_X],
        note="the steward channel is the enterprise's own steward's",
    ),
    # --- API -----------------------------------------------------------------------------------------
    R("capital-listing-list", GET, default=FORBIDDEN, ok=LIST_READERS, note="a scoped list"),
    R("capital-listing-list", POST, body="api:listing", default=FORBIDDEN, ok=WRITERS),
    R("capital-listing-detail", GET, "listing", default=FORBIDDEN, ok=READERS, not_found=[STEWARD_X]),
    R("capital-listing-figures", GET, default=FORBIDDEN, ok=LIST_READERS),
    *[
        R(name, POST, "listing", body=body, default=FORBIDDEN, ok=ok)
        for name, body, ok in (
            ("capital-listing-move", "api:listing_move", WRITERS),
            ("capital-listing-correct", "api:listing_correct", CORRECTORS),
            ("capital-listing-intermediaries", "api:listing_intermediary", WRITERS),
            ("capital-listing-problems", "api:listing_problem", WRITERS),
            ("capital-listing-supports", "api:listing_support", WRITERS),
        )
    ],
    R(
        "capital-listing-problem-raise",
        POST,
        "listing_problem",
        default=FORBIDDEN,
        ok=[STEWARD],
        not_found=[STEWARD_X],
    ),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """ent_a1 in 股改 since 30 days, with a problem not yet raised."""
    candidate = listings.create_candidate(
        enterprise=cast.ent_a1,
        board=Board.STAR,
        stage=ListingStage.RESTRUCTURING,
        stage_entered_on=today() - timedelta(days=30),
        by=cast.promoter_a,
    )
    objects["listing"] = candidate
    objects["listing_problem"] = listings.add_problem(
        candidate, text="矩阵：募投用地手续未完善", by=cast.promoter_a
    )


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {name: {"pk": objects[name].pk} for name in ("listing", "listing_problem")}


def bodies(world: Any) -> dict[str, Any]:
    cast = world.cast
    candidate = world.objects["listing"]
    day = today().isoformat()
    entered = (today() - timedelta(days=40)).isoformat()
    return {
        "listing_new": {
            "enterprise": cast.ent_a2.pk,
            "board": "bse",
            "stage": "cultivating",
            "stage_entered_on": day,
        },
        "listing_move": {"move-to": "tutoring", "move-on": day, "move-version": candidate.version},
        "listing_correct": {
            "correct-to": "cultivating",
            "correct-on": entered,
            "correct-reason": "误录为股改",
            "correct-version": candidate.version,
        },
        "listing_intermediary": {"intermediary-role": "sponsor", "intermediary-firm": "华泰证券"},
        "listing_problem": {"problem-text": "矩阵：历史沿革需确认"},
        "listing_support": {"support-what": "股改奖励", "support-amount": "50", "support-granted_on": day},
        "api:listing": {"enterprise": cast.ent_a2.pk, "board": "bse"},
        "api:listing_move": {"to": "tutoring", "on": day, "version": candidate.version},
        "api:listing_correct": {
            "to": "cultivating",
            "on": entered,
            "reason": "误录为股改",
            "version": candidate.version,
        },
        "api:listing_intermediary": {"role": "law_firm", "firm": "国浩律师事务所"},
        "api:listing_problem": {"text": "矩阵：环评主体需变更"},
        "api:listing_support": {"what": "辅导备案奖励", "amount": "100", "granted_on": day},
    }
