"""Next due visit: tier defaults, after a visit, across holidays and 调休, per-enterprise override."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.core.management import call_command

from guanjia.core.models import AuditRecord
from guanjia.core.workcalendar import BEIJING
from guanjia.enterprises.models import Enterprise, Tier
from guanjia.visits import services
from guanjia.visits.models import Mode, VisitSchedule

pytestmark = pytest.mark.django_db


def _registered_on(enterprise: Enterprise, day: date, tier: str) -> Enterprise:
    Enterprise.objects.filter(pk=enterprise.pk).update(
        created_at=datetime(day.year, day.month, day.day, 9, tzinfo=BEIJING), tier=tier
    )
    enterprise.refresh_from_db()
    return enterprise


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        (Tier.KEY, date(2026, 4, 1)),  # +30 = Wed 1 April, a working day
        (Tier.ABOVE_SCALE, date(2026, 5, 6)),  # +60 = 1 May, Labour Day holiday (1–5 May) → Wed 6 May
        (Tier.GENERAL, date(2026, 6, 1)),  # +90 = Sun 31 May → Mon 1 June
    ],
)
def test_next_due_for_each_tier_from_registration(cast, tier, expected):
    enterprise = _registered_on(cast.ent_a1, date(2026, 3, 2), tier)
    assert services.refresh_schedule(enterprise).next_due == expected


def test_a_new_enterprise_gets_its_schedule_row_on_creation(cast):
    row = VisitSchedule.objects.get(enterprise=cast.ent_a1)  # written by the post_save hook
    assert row.next_due == services.next_due(services.today(), services.interval_for(cast.ent_a1.tier))


def test_the_interval_constants_follow_the_design():
    assert services.interval_for(Tier.KEY) == 30
    assert services.interval_for(Tier.ABOVE_SCALE) == 60
    assert services.interval_for(Tier.GENERAL) == 90
    assert services.interval_for(Tier.KEY, 14) == 14


@time_machine.travel(datetime(2026, 9, 20, 10, tzinfo=BEIJING), tick=False)
def test_after_a_visit_landing_in_national_day_rolls_to_the_next_working_day(cast):
    enterprise = _registered_on(cast.ent_a1, date(2026, 1, 5), Tier.KEY)
    services.record_visit(
        enterprise,
        by=cast.steward_a,
        visited_on=date(2026, 9, 1),  # +30 = 1 October: National Day, off through 7 October
        mode=Mode.ONSITE,
        our_side="张管家",
        their_side="王经理",
        summary="了解经营情况",
    )
    row = VisitSchedule.objects.get(enterprise=enterprise)
    assert row.last_visit_on == date(2026, 9, 1)
    assert row.next_due == date(2026, 10, 8)


def test_a_tiaoxiu_saturday_is_a_working_day_and_stays():
    assert services.next_due(date(2026, 9, 10), 30) == date(2026, 10, 10)  # Saturday, worked (调休)
    assert services.next_due(date(2026, 1, 15), 30) == date(2026, 2, 14)  # Spring Festival 调休 Saturday
    assert services.next_due(date(2026, 9, 11), 30) == date(2026, 10, 12)  # Sunday 11 October is off


def test_override_changes_next_due_and_is_audited(cast):
    enterprise = _registered_on(cast.ent_a1, date(2026, 3, 2), Tier.GENERAL)
    row = services.set_interval(enterprise, 7, by=cast.dispatcher_a)
    assert row.interval_days == 7
    assert row.next_due == date(2026, 3, 9)
    assert AuditRecord.objects.filter(action="visit.set_interval", object_id=str(enterprise.pk)).exists()
    row = services.set_interval(enterprise, None, by=cast.dispatcher_a)
    assert row.next_due == date(2026, 6, 1)


def test_only_the_zones_keepers_override(cast):
    from guanjia.core.errors import NotAllowed

    with pytest.raises(NotAllowed):
        services.set_interval(cast.ent_a1, 7, by=cast.steward_a)


def test_a_tier_change_through_update_enterprise_moves_next_due(cast):
    from guanjia.enterprises.services import update_enterprise

    enterprise = _registered_on(cast.ent_a1, date(2026, 3, 2), Tier.GENERAL)
    services.refresh_schedule(enterprise)
    assert VisitSchedule.objects.get(enterprise=enterprise).next_due == date(2026, 6, 1)
    update_enterprise(enterprise, data={"tier": Tier.KEY}, by=cast.dispatcher_a)
    assert VisitSchedule.objects.get(enterprise=enterprise).next_due == date(2026, 4, 1)
    # A change of another field leaves the row alone (the override, the last visit stay too).
    services.set_interval(enterprise, 14, by=cast.dispatcher_a)
    update_enterprise(enterprise, data={"address": "星湖街 1 号"}, by=cast.dispatcher_a)
    row = VisitSchedule.objects.get(enterprise=enterprise)
    assert (row.interval_days, row.next_due) == (14, date(2026, 3, 16))


def test_enterprises_changed_recomputes_in_batches(cast, django_assert_max_num_queries):
    from guanjia.core.workcalendar import BEIJING
    from guanjia.enterprises import signals

    VisitSchedule.objects.all().delete()  # as a bulk insert leaves them
    ids = [cast.ent_a1.pk, cast.ent_a2.pk, cast.ent_b1.pk]
    # Registered on a fixed day: tests read the calendar token at every calendar call (RECHECK_SECONDS
    # is 0 there), and a due date falling on a weekend (as one counted from today may) takes more calls.
    Enterprise.objects.filter(pk__in=ids).update(created_at=datetime(2026, 7, 1, 9, tzinfo=BEIJING))
    with django_assert_max_num_queries(4 * 3):  # per batch: enterprises, rows, calendar token, insert
        assert services.recompute_schedules(ids, batch=1) == 3
    assert VisitSchedule.objects.count() == 3
    VisitSchedule.objects.all().delete()
    signals.enterprises_changed.send(sender=Enterprise, ids=ids)
    assert set(VisitSchedule.objects.values_list("enterprise_id", flat=True)) == set(ids)


def test_a_calendar_change_moves_the_due_dates(cast, django_capture_on_commit_callbacks):
    from guanjia.core import services as core_services

    enterprise = _registered_on(cast.ent_a1, date(2026, 3, 2), Tier.KEY)
    services.refresh_schedule(enterprise)
    assert VisitSchedule.objects.get(enterprise=enterprise).next_due == date(2026, 4, 1)
    sysadmin = cast.sysadmin
    with django_capture_on_commit_callbacks(execute=True):
        core_services.set_calendar_day(date(2026, 4, 1), is_workday=False, name="临时休息", by=sysadmin)
    assert VisitSchedule.objects.get(enterprise=enterprise).next_due == date(2026, 4, 2)


def test_reschedule_command_recomputes_every_row(cast):
    VisitSchedule.objects.all().delete()
    call_command("visits", "reschedule", "--batch", "2")
    assert VisitSchedule.objects.count() == Enterprise.objects.count()
