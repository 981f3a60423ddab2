"""Did the entry solve the enterprise's question? One word per user, entry and day (the last counts),
from enterprise users only; the counts of questions solved without an appeal, the zone's totals and the
portal searches that found nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.knowledge import entries
from guanjia.knowledge.models import Entry, Feedback, Query
from guanjia.knowledge.tests.entries_helpers import ent_user_b1, entry

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")


def counts(made: Entry) -> tuple[int, int]:
    row = entries.with_counts(Entry.objects.filter(pk=made.pk)).get()
    return row.resolved_count, row.unresolved_count  # type: ignore[attr-defined]


def test_the_last_word_of_the_day_counts_and_a_new_day_counts_again(cast):
    made = entry(cast.handler_a, "社保怎么开户")
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING), tick=False):
        entries.record_feedback(made, by=cast.ent_user_a1, resolved=False, query="社保开户")
        given = entries.record_feedback(made, by=cast.ent_user_a1, resolved=True, query="社保开户")
    assert Feedback.objects.count() == 1
    assert given.resolved and given.enterprise == cast.ent_a1 and given.query == "社保开户"
    assert counts(made) == (1, 0)
    with time_machine.travel(datetime(2026, 3, 3, 9, 0, tzinfo=BEIJING), tick=False):
        entries.record_feedback(made, by=cast.ent_user_a1, resolved=True)
    assert counts(made) == (2, 0)


def test_only_enterprise_users_give_feedback_on_published_entries_they_see(cast):
    made = entry(cast.handler_a, "社保怎么开户")
    for staff in (cast.steward_a, cast.handler_a, cast.dispatcher_a, cast.sysadmin):
        with pytest.raises(NotAllowed):
            entries.record_feedback(made, by=staff, resolved=True)
    with pytest.raises(ServiceError, match="未发布或不在您的范围内"):
        entries.record_feedback(made, by=ent_user_b1(cast), resolved=True)  # zone B's enterprise
    draft = entry(cast.handler_a, "草稿", published=False)
    with pytest.raises(ServiceError, match="未发布"):
        entries.record_feedback(draft, by=cast.ent_user_a1, resolved=True)
    assert not Feedback.objects.exists()


def test_log_query_keeps_enterprise_searches_in_their_zone(cast):
    logged = entries.log_query(cast.ent_user_a1, "  厂房租金补贴  ", 0)
    assert logged is not None and logged.zone == cast.zone_a and logged.text == "厂房租金补贴"
    assert logged.enterprise == cast.ent_a1
    assert entries.log_query(cast.steward_a, "厂房", 0) is None  # staff searches are not the enterprises'
    assert entries.log_query(cast.ent_user_a1, "   ", 0) is None
    assert Query.objects.count() == 1


def test_unanswered_searches_of_the_last_30_days_grouped_by_text(cast):
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=40)):
        entries.log_query(cast.ent_user_a1, "老问题", 0)
    for _ in range(3):
        entries.log_query(cast.ent_user_a1, "厂房租金补贴", 0)
    entries.log_query(cast.ent_user_a1, "人才公寓", 0)
    entries.log_query(cast.ent_user_a1, "社保", 2)  # found something
    entries.log_query(ent_user_b1(cast), "经开区的问题", 0)
    rows = entries.unanswered_queries([cast.zone_a.pk])
    assert [(row["text"], row["count"]) for row in rows] == [("厂房租金补贴", 3), ("人才公寓", 1)]


def test_zone_totals_and_top_entries(cast):
    first = entry(cast.handler_a, "社保怎么开户")
    second = entry(cast.handler_a, "公积金怎么缴存")
    other = ent_user_b1(cast)
    entries.record_feedback(first, by=cast.ent_user_a1, resolved=True)
    entries.record_feedback(second, by=cast.ent_user_a1, resolved=False)
    entries.log_query(cast.ent_user_a1, "社保", 1)
    entries.log_query(cast.ent_user_a1, "租金", 0)
    entries.log_query(other, "经开区", 0)
    now = timezone.now()
    totals = entries.zone_totals([cast.zone_a.pk], entries.month_start(now), now + timedelta(seconds=1))
    assert totals == entries.Totals(resolved=1, unresolved=1, searches=2, unanswered=1)
    assert entries.top_entries(Entry.objects.all()) == [first]
