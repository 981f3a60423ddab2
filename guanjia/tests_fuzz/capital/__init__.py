"""API fuzz positives of the capital app: the listing pipeline (上市后备企业库) of the demo's first zone
(gj_promoter writes it, gj_leader and gj_supervisor read and correct it, gj_steward1 raises a problem of
an enterprise it serves as an appeal)."""

from __future__ import annotations

from datetime import timedelta

from guanjia.capital import listings
from guanjia.capital.access import today
from guanjia.capital.models import Board, ListingCandidate, ListingStage
from guanjia.core.models import User
from guanjia.enterprises.models import Enterprise
from guanjia.tests_fuzz.world import Positive

LISTINGS = "/api/capital/listings/"
PROBLEMS = "/api/capital/listing-problems/"


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    promoter, steward = users["promoter"], users["steward"]
    free = Enterprise.objects.filter(
        zone_id__in=promoter.zone_ids(), listing_candidate__isnull=True
    ).order_by("pk")
    served = free.filter(steward=steward)
    others = free.exclude(steward=steward)
    entered = today() - timedelta(days=60)

    def fresh(enterprise: Enterprise, stage: str = ListingStage.CULTIVATING) -> ListingCandidate:
        # Candidates of their own for each versioned write, so that no positive case stales another's version.
        return listings.create_candidate(
            enterprise=enterprise, board=Board.CHINEXT, stage=stage, stage_entered_on=entered, by=promoter
        )

    pool = list(others[:7])
    new_enterprise, read, moved, corrected, written = pool[0], pool[1], pool[2], pool[3], pool[4]
    read_candidate = fresh(read)
    moved_candidate = fresh(moved)
    corrected_candidate = fresh(corrected, ListingStage.RESTRUCTURING)
    written_candidate = fresh(written)
    raised_candidate = fresh(served.first())  # type: ignore[arg-type]
    problem = listings.add_problem(raised_candidate, text="模糊测试：募投用地手续未完善", by=promoter)
    day = today().isoformat()
    return [
        Positive(f"GET {LISTINGS}", "leader", query={"stage": "cultivating"}),
        Positive(f"POST {LISTINGS}", "promoter", body={"enterprise": new_enterprise.pk, "board": "star"}),
        Positive(f"GET {LISTINGS}{{id}}/", "supervisor", {"id": read_candidate.pk}),
        Positive(f"GET {LISTINGS}figures/", "leader"),
        Positive(
            f"POST {LISTINGS}{{id}}/move/",
            "promoter",
            {"id": moved_candidate.pk},
            body={"to": "restructuring", "on": day, "version": moved_candidate.version},
        ),
        Positive(
            f"POST {LISTINGS}{{id}}/correct/",
            "leader",
            {"id": corrected_candidate.pk},
            body={
                "to": "cultivating",
                "on": entered.isoformat(),
                "reason": "误录为股改",
                "version": corrected_candidate.version,
            },
        ),
        Positive(
            f"POST {LISTINGS}{{id}}/intermediaries/",
            "promoter",
            {"id": written_candidate.pk},
            body={"role": "sponsor", "firm": "华泰证券", "contact_person": "陈俊", "phone": "13800001111"},
        ),
        Positive(
            f"POST {LISTINGS}{{id}}/problems/",
            "promoter",
            {"id": written_candidate.pk},
            body={"text": "模糊测试：历史沿革需确认"},
        ),
        Positive(
            f"POST {LISTINGS}{{id}}/supports/",
            "promoter",
            {"id": written_candidate.pk},
            body={"what": "股改奖励", "amount": "50.00", "granted_on": day},
        ),
        Positive(f"POST {PROBLEMS}{{id}}/raise/", "steward", {"id": problem.pk}),
    ]
