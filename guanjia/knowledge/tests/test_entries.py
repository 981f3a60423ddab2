"""Keeping the knowledge base: a department's handlers and head write, publish and archive its entries;
every write is audited, indexed for search in the same transaction, and refused when stale."""

from __future__ import annotations

import pytest

from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, OrgUnit, SearchEntry
from guanjia.core.roles import Role
from guanjia.knowledge import entries
from guanjia.knowledge.access import check_keeper
from guanjia.knowledge.models import SEARCH_KIND, Entry, EntryStatus
from guanjia.knowledge.tests.entries_helpers import department, entry
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db


def indexed(made: Entry) -> SearchEntry:
    return SearchEntry.objects.get(kind=SEARCH_KIND, object_id=made.pk)


def test_a_handler_writes_a_draft_of_its_own_department_and_it_is_indexed(cast):
    made = entries.create_entry(
        by=cast.handler_a,
        question="营业执照丢了怎么补办",
        answer="登报声明后到窗口申请补领。",
        keywords="执照 遗失",
    )
    assert made.status == EntryStatus.DRAFT
    assert made.department == cast.market_a and made.zone == cast.zone_a
    assert made.created_by == cast.handler_a
    row = indexed(made)
    assert row.title == "营业执照丢了怎么补办"
    assert "遗失" in row.title_tokens.split() and "登报" in row.body_tokens.split()
    assert AuditRecord.objects.filter(action="knowledge.entry_create", object_id=str(made.pk)).exists()


@pytest.mark.parametrize(
    "role", ["dispatcher_a", "steward_a", "supervisor_a", "leader_a", "ent_user_a1", "sysadmin"]
)
def test_only_a_department_keeper_creates_entries(cast, role):
    with pytest.raises(NotAllowed):
        entries.create_entry(by=getattr(cast, role), question="问题", answer="解答")
    assert not Entry.objects.exists()


def test_a_keeper_writes_only_for_its_own_department(cast):
    tax = department(cast.zone_a, "zone-a-tax", "高新区税务局")
    with pytest.raises(NotAllowed, match="本部门"):
        entries.create_entry(by=cast.handler_a, question="问题", answer="解答", department=tax)


def test_a_department_outside_a_zone_keeps_no_entry(cast):
    city_handler = make_user("city_handler", department(cast.city, "city-dept", "市局"), Role.HANDLER)
    with pytest.raises(entries.InvalidField) as refused:
        entries.create_entry(by=city_handler, question="问题", answer="解答")
    assert refused.value.field == "department"


@pytest.mark.parametrize(
    ("field", "values", "message"),
    [
        ("question", {"question": "  "}, "问题：请填写"),
        ("answer", {"answer": ""}, "解答：请填写"),
        ("question", {"question": "问" * 201}, "问题：不能超过 200 个字"),
        ("keywords", {"keywords": "词" * 201}, "关键词/同义词：不能超过 200 个字"),
        ("category", {"category": 999999}, "类别：未知的类别"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(cast, field, values, message):
    data = {"question": "问题", "answer": "解答", **values}
    with pytest.raises(entries.InvalidField, match=message) as refused:
        entries.create_entry(by=cast.handler_a, **data)
    assert refused.value.field == field
    assert not Entry.objects.exists() and not SearchEntry.objects.exists()


def test_an_edit_re_indexes_and_a_stale_edit_is_refused(cast):
    made = entry(cast.handler_a, "社保怎么开户")
    shown = made.version
    entries.update_entry(
        made,
        by=cast.handler_a,
        version=shown,
        question="单位社保如何开户",
        answer="网上办理。",
        keywords="",
        category=None,
    )
    made.refresh_from_db()
    assert made.question == "单位社保如何开户" and made.version == shown + 1
    assert indexed(made).title == "单位社保如何开户"
    with pytest.raises(Conflict, match="刚被他人修改"):
        entries.update_entry(
            made,
            by=cast.handler_a,
            version=shown,
            question="旧的问题",
            answer="旧的",
            keywords="",
            category=None,
        )
    made.refresh_from_db()
    assert made.question == "单位社保如何开户"
    assert indexed(made).title == "单位社保如何开户"


def test_another_departments_keeper_may_not_edit(cast):
    made = entry(cast.handler_a, "社保怎么开户")
    other = make_user("handler_centre", cast.centre_a, Role.HANDLER)
    with pytest.raises(NotAllowed):
        entries.update_entry(
            made, by=other, version=made.version, question="改", answer="改", keywords="", category=None
        )
    with pytest.raises(NotAllowed):
        check_keeper(cast.dispatcher_a, made)


def test_the_head_of_the_department_keeps_its_entries(cast):
    head = make_user("head_a", cast.market_a, Role.DEPARTMENT_HEAD)
    made = entry(cast.handler_a, "社保怎么开户", published=False)
    entries.publish(made, by=head, version=made.version)
    assert Entry.objects.get(pk=made.pk).status == EntryStatus.PUBLISHED


def test_publish_and_archive_follow_the_states(cast):
    made = entry(cast.handler_a, "社保怎么开户", published=False)
    assert made.published_at is None
    entries.publish(made, by=cast.handler_a, version=made.version)
    made.refresh_from_db()
    assert made.status == EntryStatus.PUBLISHED and made.published_at is not None
    with pytest.raises(ServiceError, match="已发布"):
        entries.publish(made, by=cast.handler_a, version=made.version)
    entries.archive(made, by=cast.handler_a, version=made.version)
    made.refresh_from_db()
    assert made.status == EntryStatus.ARCHIVED
    with pytest.raises(ServiceError, match="已停用"):
        entries.archive(made, by=cast.handler_a, version=made.version)
    entries.publish(made, by=cast.handler_a, version=made.version)  # published again
    assert Entry.objects.get(pk=made.pk).status == EntryStatus.PUBLISHED
    actions = list(
        AuditRecord.objects.filter(object_id=str(made.pk), action__startswith="knowledge.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "knowledge.entry_create",
        "knowledge.entry_publish",
        "knowledge.entry_archive",
        "knowledge.entry_publish",
    ]


def test_a_stale_publish_is_refused(cast):
    made = entry(cast.handler_a, "社保怎么开户", published=False)
    stale = Entry.objects.get(pk=made.pk)
    entries.archive(made, by=cast.handler_a, version=made.version)
    with pytest.raises(Conflict):
        entries.publish(stale, by=cast.handler_a, version=stale.version)
    assert Entry.objects.get(pk=made.pk).status == EntryStatus.ARCHIVED


def test_visibility_drafts_for_keepers_and_overseers_only(cast):
    draft = entry(cast.handler_a, "草稿条目", published=False)
    published = entry(cast.handler_a, "已发布条目")
    assert set(Entry.objects.visible_to(cast.handler_a)) == {draft, published}
    assert set(Entry.objects.visible_to(cast.dispatcher_a)) == {draft, published}
    assert set(Entry.objects.visible_to(cast.ent_user_a1)) == {published}
    assert set(Entry.objects.visible_to(cast.steward_a)) == {published}
    assert set(Entry.objects.visible_to(cast.steward_b)) == set()
    assert set(Entry.objects.visible_to(cast.sysadmin)) == set()
    assert OrgUnit.objects.filter(pk=draft.zone_id, kind=OrgUnit.Kind.ZONE).exists()
