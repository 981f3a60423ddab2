"""Two supervisors act on the same adoption at the same moment: one wins, the other is told, nothing is
lost or written twice."""

from __future__ import annotations

from datetime import date

import pytest

from guanjia.core.errors import Conflict, ServiceError
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.exchange import practices as services
from guanjia.exchange.models import Adoption, AdoptionStage
from guanjia.testing import build_cast, make_user, run_concurrently


def _practice(cast):
    return services.create_practice(
        by=cast.supervisor_a,
        zone=cast.zone_a,
        title="早九晚五、中午不下班",
        description="窗口中午轮流就餐。",
        seen_at="昆山高新区",
        learned_by="考察组",
    )


@pytest.mark.django_db(transaction=True)
def test_two_advances_at_once_one_wins_the_other_gets_a_conflict():
    cast = build_cast()
    colleague = make_user("supervisor_a2", cast.centre_a, Role.SUPERVISOR)
    adoption = services.add_adoption(
        _practice(cast),
        unit=cast.market_a,
        kpi="praise_rate",
        referenced_on=date(2026, 1, 5),
        by=cast.supervisor_a,
    )
    # Both read the adoption at 借鉴 before either acted, with different trial dates.
    mine = Adoption.objects.select_related("practice", "unit").get(pk=adoption.pk)
    theirs = Adoption.objects.select_related("practice", "unit").get(pk=adoption.pk)

    results = run_concurrently(
        lambda: services.advance(
            mine, to_stage=AdoptionStage.TRIAL, on=date(2026, 2, 1), by=cast.supervisor_a, version=1
        ),
        lambda: services.advance(
            theirs, to_stage=AdoptionStage.TRIAL, on=date(2026, 3, 1), by=colleague, version=1
        ),
    )

    winners = [r for r in results if isinstance(r, Adoption)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert (len(winners), len(losers)) == (1, 1), results
    stored = Adoption.objects.get(pk=adoption.pk)
    assert (stored.stage, stored.trial_on, stored.version) == (AdoptionStage.TRIAL, winners[0].trial_on, 2)
    assert AuditRecord.objects.filter(action="exchange.adoption_advance").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_adoptions_of_one_unit_at_once_make_one():
    cast = build_cast()
    colleague = make_user("supervisor_a2", cast.centre_a, Role.SUPERVISOR)
    practice = _practice(cast)

    results = run_concurrently(
        *(
            lambda by=by: services.add_adoption(
                practice, unit=cast.market_a, kpi="praise_rate", referenced_on=date(2026, 1, 5), by=by
            )
            for by in (cast.supervisor_a, colleague)
        )
    )

    assert sum(isinstance(r, Adoption) for r in results) == 1, results
    assert sum(isinstance(r, ServiceError) for r in results) == 1, results
    assert Adoption.objects.filter(practice=practice).count() == 1
    assert AuditRecord.objects.filter(action="exchange.adoption_create").count() == 1
