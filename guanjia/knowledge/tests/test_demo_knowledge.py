"""The knowledge part of `guanjia demo-data`: 高新区's corpus published by its departments' own staff with
a few drafts, a small set for 经开区, every entry indexed and found by the search within each user's zone,
an entry made from an answered 咨询 appeal, feedback and searches (some unanswered) to count."""

from __future__ import annotations

import random
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from guanjia.appeals.models import Appeal, Handling, Status
from guanjia.core import search
from guanjia.core.models import OrgUnit, SearchEntry, User
from guanjia.enterprises.demo import DEFAULT_SEED
from guanjia.knowledge.corpus import ENTRIES, JK_QUESTIONS
from guanjia.knowledge.demo import (
    ANSWERED_SEARCHES,
    FEEDBACK_WITHIN_DAYS,
    SEARCH_RESULTS,
    UNANSWERED_SEARCHES,
    add_demo_knowledge,
)
from guanjia.knowledge.models import KNOWLEDGE_KEEPERS, SEARCH_KIND, Entry, EntryStatus, Feedback, Query

COUNT = 40


@pytest.fixture(scope="module")
def demo_area(django_db_setup, django_db_blocker):
    """The demo, built once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo_data", "--enterprises", str(COUNT), stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def zones(demo_area, db) -> tuple[OrgUnit, OrgUnit]:
    return OrgUnit.objects.get(code="jn-gx"), OrgUnit.objects.get(code="jn-jk")


def test_each_zone_has_its_entries_kept_and_written_by_its_own_departments(zones):
    gx, jk = zones
    gx_entries = list(Entry.objects.filter(zone=gx).select_related("department", "created_by"))
    jk_entries = list(Entry.objects.filter(zone=jk).select_related("department", "created_by"))
    from_corpus = [entry for entry in gx_entries if entry.source_appeal_id is None]
    assert len(from_corpus) == len(ENTRIES) >= 45
    assert {entry.question for entry in jk_entries} == set(JK_QUESTIONS)
    drafts = [entry for entry in gx_entries if entry.status == EntryStatus.DRAFT]
    assert 1 <= len(drafts) < len(gx_entries) // 10
    assert {entry.department.code for entry in from_corpus} == {
        f"jn-gx-{key}" for key in ("market", "tax", "planning", "hr", "housing", "ecology")
    }
    for entry in gx_entries + jk_entries:
        assert entry.department.parent_id == entry.zone_id, entry
        assert entry.created_by.unit_id == entry.department_id, entry
        assert entry.created_by.has_any_role(KNOWLEDGE_KEEPERS), entry
        assert entry.created_at <= entry.updated_at <= timezone.now(), entry
        assert (entry.published_at is not None) == (entry.status == EntryStatus.PUBLISHED), entry
        assert entry.category is not None or entry.source_appeal_id is not None, entry


def test_every_entry_is_indexed(zones):
    entry_ids = set(Entry.objects.values_list("pk", flat=True))
    assert set(SearchEntry.objects.filter(kind=SEARCH_KIND).values_list("object_id", flat=True)) == entry_ids


def test_each_zones_enterprise_user_finds_its_own_zones_answer(zones):
    for username, zone in (("gj_enterprise", zones[0]), ("gj_enterprise2", zones[1])):
        user = User.objects.get(username=username)
        within = Entry.objects.visible_to(user)
        hits = search.search(SEARCH_KIND, "营业执照丢了怎么补", within=within)
        found = Entry.objects.in_bulk([hit.object_id for hit in hits])
        assert {entry.zone_id for entry in found.values()} == {zone.pk}, username
        assert "营业执照遗失或损坏了，如何补领？" in [found[hit.object_id].question for hit in hits[:3]], (
            username
        )
    # 人才公寓 is 高新区's entry only.
    jk_user = User.objects.get(username="gj_enterprise2")
    assert search.search(SEARCH_KIND, "人才公寓", within=Entry.objects.visible_to(jk_user)) == []


def test_an_answered_consultation_became_an_entry_where_the_demo_has_one(zones):
    gx = zones[0]
    from_appeal = Entry.objects.filter(zone=gx, source_appeal__isnull=False).select_related("source_appeal")
    answered = Appeal.objects.filter(
        zone=gx, handling=Handling.CONSULT, status__in=(Status.ANSWERED, Status.CLOSED)
    )
    assert answered.exists()  # at this size the demo has answered consultations
    assert from_appeal.count() == 1
    for entry in from_appeal:
        appeal = entry.source_appeal
        assert appeal is not None
        assert appeal.handling == Handling.CONSULT and entry.question == appeal.title
        assert entry.status == EntryStatus.PUBLISHED and entry.answer
        assert appeal.assignments.filter(
            department=entry.department, is_lead=True, answer=entry.answer
        ).exists()


def test_enterprise_users_said_whether_entries_solved_their_question(zones):
    gx = zones[0]
    feedback = list(Feedback.objects.select_related("entry", "user"))
    mine = [row for row in feedback if row.user.username == "gj_enterprise"]
    assert len(mine) >= 5 and {row.resolved for row in mine} == {True, False}
    assert {row.user.username for row in feedback} >= {"gj_enterprise", "gj_enterprise2"}
    since = timezone.now() - timedelta(days=FEEDBACK_WITHIN_DAYS + 1)
    for row in feedback:
        published_at, enterprise = row.entry.published_at, row.enterprise
        assert row.entry.status == EntryStatus.PUBLISHED and published_at and published_at <= row.at, row
        assert since <= row.at <= timezone.now() and row.day == timezone.localdate(row.at), row
        assert enterprise is not None and enterprise.zone_id == row.entry.zone_id, row
    assert any(row.entry.zone_id == gx.pk for row in feedback)


def test_portal_searches_with_and_without_answers_count_what_the_search_finds(zones):
    gx = zones[0]
    queries = list(Query.objects.filter(zone=gx))
    by_text = {query.text: query.hits for query in queries}
    assert set(by_text) == set(ANSWERED_SEARCHES) | set(UNANSWERED_SEARCHES)
    assert [text for text in UNANSWERED_SEARCHES if by_text[text]] == []
    assert [text for text in ANSWERED_SEARCHES if not by_text[text]] == []
    within = Entry.objects.filter(zone=gx, status=EntryStatus.PUBLISHED)
    for text, hits in by_text.items():
        assert hits == len(search.search(SEARCH_KIND, text, within=within, limit=SEARCH_RESULTS)), text
    recent = timezone.now() - timedelta(days=30)
    assert any(query.hits == 0 and query.at >= recent for query in queries)


def test_the_same_seed_gives_the_same_knowledge_base(zones):
    units = {unit.code: unit for unit in OrgUnit.objects.all()}

    def rebuilt() -> list[tuple]:
        with transaction.atomic():
            SearchEntry.objects.filter(kind=SEARCH_KIND).delete()
            Feedback.objects.all().delete()
            Entry.objects.all().delete()
            Query.objects.all().delete()
            add_demo_knowledge(None, units=units, rng=random.Random(DEFAULT_SEED))
            rows = [
                *Entry.objects.order_by("zone__code", "question").values_list(
                    "zone__code", "department__code", "question", "status", "created_at", "published_at"
                ),
                *Feedback.objects.order_by("user__username", "at", "entry__question").values_list(
                    "user__username", "entry__question", "day", "resolved", "at"
                ),
                *Query.objects.order_by("zone__code", "at", "text").values_list(
                    "zone__code", "text", "hits", "enterprise_id", "at"
                ),
            ]
            transaction.set_rollback(True)
        return rows

    with time_machine.travel(timezone.now(), tick=False):
        first = rebuilt()
        assert len(first) > 100
        assert rebuilt() == first
