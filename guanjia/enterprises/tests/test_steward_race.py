"""One steward per enterprise holds when several people reassign at the same moment."""

import pytest
from django.db import IntegrityError, transaction

from guanjia.core.errors import Conflict
from guanjia.core.roles import Role
from guanjia.enterprises import services
from guanjia.enterprises.models import Enterprise, StewardAssignment
from guanjia.testing import build_cast, make_user, run_concurrently


@pytest.mark.django_db(transaction=True)
def test_concurrent_reassignment_keeps_one_active_steward():
    cast = build_cast()
    extra = [make_user(f"steward_x{i}", cast.centre_a, Role.STEWARD) for i in range(3)]
    targets = [cast.steward_a2, *extra]

    def reassign(target):
        # Every actor read the enterprise before anyone wrote: the classic lost-update setup.
        enterprise = Enterprise.objects.get(pk=cast.ent_a1.pk)

        def call():
            return services.assign_steward(enterprise, target, reason="并发调整", by=cast.dispatcher_a)

        return call

    results = run_concurrently(*[reassign(t) for t in targets])
    winners = [r for r in results if isinstance(r, StewardAssignment)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) and "请刷新后重试" in str(r) for r in losers), losers

    active = StewardAssignment.objects.filter(enterprise=cast.ent_a1, ended_at__isnull=True)
    assert active.count() == 1
    assert (
        Enterprise.objects.get(pk=cast.ent_a1.pk).steward_id
        == active.get().steward_id
        == winners[0].steward_id
    )
    assert StewardAssignment.objects.filter(enterprise=cast.ent_a1).count() == 2  # the first and the winner


@pytest.mark.django_db(transaction=True)
def test_database_refuses_a_second_active_assignment_even_without_the_service():
    cast = build_cast()
    with pytest.raises(IntegrityError), transaction.atomic():
        StewardAssignment.objects.create(enterprise=cast.ent_a1, steward=cast.steward_a2)
