"""Two people keep the same unit at the same moment: one wins, the other is told, nothing is half-written;
two units of one name created at once leave one; a service is never removed from under a booking made
meanwhile."""

from __future__ import annotations

from datetime import time

import pytest

from guanjia.core.errors import Conflict, ServiceError
from guanjia.core.roles import Role
from guanjia.testing import build_cast, make_user, run_concurrently
from guanjia.windows import units
from guanjia.windows.models import Appointment, ServiceUnit, WindowService
from guanjia.windows.tests.test_units import book, make_head, make_unit


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_of_one_unit_one_wins_the_other_gets_a_conflict():
    cast = build_cast()
    head = make_head(cast)
    unit = make_unit(head)
    mine, theirs = ServiceUnit.objects.get(pk=unit.pk), ServiceUnit.objects.get(pk=unit.pk)

    results = run_concurrently(
        lambda: units.update_unit(mine, by=head, version=1, no_lunch_break=False),
        lambda: units.update_unit(theirs, by=head, version=1, notice="请携带原件"),
    )

    assert sum(isinstance(r, ServiceUnit) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    stored = ServiceUnit.objects.get(pk=unit.pk)
    assert stored.version == 2
    assert (stored.no_lunch_break, stored.notice) in {(False, ""), (True, "请携带原件")}


@pytest.mark.django_db(transaction=True)
def test_two_units_of_one_name_created_at_once_leave_one():
    cast = build_cast()
    head, second_head = make_head(cast), make_user("head_a2", cast.market_a, Role.DEPARTMENT_HEAD)

    results = run_concurrently(lambda: make_unit(head), lambda: make_unit(second_head))

    assert sum(isinstance(r, ServiceUnit) for r in results) == 1, results
    refused = [r for r in results if isinstance(r, units.InvalidField)]
    assert len(refused) == 1 and refused[0].field == "name", results
    assert ServiceUnit.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_service_is_not_removed_from_under_a_booking_made_meanwhile():
    cast = build_cast()
    head = make_head(cast)
    window = units.add_window(make_unit(head), by=head, number="1", name="企业开办")
    service = units.add_service(window, by=head, name="企业设立登记")

    results = run_concurrently(
        lambda: units.remove_service(WindowService.objects.get(pk=service.pk), by=head),
        lambda: book(window, service, cast.ent_a1, cast.ent_user_a1, at=time(9, 30)),
    )

    booked = [r for r in results if isinstance(r, Appointment)]
    if booked:  # the booking came first: the service stays, and its removal was refused
        assert WindowService.objects.filter(pk=service.pk).exists()
        assert isinstance(results[0], ServiceError), results
    else:  # the removal came first: the booking found no service to name
        assert not WindowService.objects.filter(pk=service.pk).exists()
        assert not Appointment.objects.exists()
