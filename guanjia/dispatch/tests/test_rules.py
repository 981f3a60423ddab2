"""Keyword rules: how a text scores against them, which routes they give in a zone, and who may edit them."""

from __future__ import annotations

import importlib

import pytest

from guanjia.appeals.models import AppealCategory, CategoryRoute
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, OrgUnit
from guanjia.core.roles import Role
from guanjia.dispatch import rules
from guanjia.dispatch.defaults import DEFAULT_KEYWORDS, ensure_default_rules
from guanjia.dispatch.models import KeywordRule
from guanjia.testing import make_user


@pytest.fixture
def keywords(cast) -> dict[str, KeywordRule]:
    return ensure_default_rules()


def route(cast, rule: KeywordRule, name: str) -> OrgUnit:
    unit = OrgUnit.objects.create(
        name=name, code=f"zone-a-{rule.category.code}", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    CategoryRoute.objects.create(category=rule.category, zone=cast.zone_a, lead_department=unit)
    return unit


def test_a_title_hit_counts_twice_and_each_keyword_once():
    assert rules.matched(["退税", "发票", "税", "退税"], "退税慢", "退税和发票的问题，退税") == (
        5,
        ("退税", "发票", "税"),
    )
    assert rules.matched(["专利"], "退税慢", "发票") == (0, ())


def test_the_rules_route_the_best_three_categories_with_a_department(cast, keywords):
    tax = route(cast, keywords["tax"], "税务局")
    finance = route(cast, keywords["finance"], "金融工作局")
    route(cast, keywords["ip"], "知识产权局")
    transport = route(cast, keywords["logistics"], "交通运输局")
    # 用工人才 has a hit (社保) but no lead department in zone A: it is skipped, and shares no score.

    found = rules.routes(
        cast.zone_a, "留抵退税到账前想申请贷款", "想用专利质押融资，货车限行也是问题，社保正常。"
    )

    assert [(r.category.code, r.department, r.words) for r in found] == [
        ("tax", tax, ("税", "退税", "留抵")),  # three title words: 6
        ("finance", finance, ("贷款", "融资")),  # a title word and a body word: 3
        ("logistics", transport, ("货车", "限行")),  # two body words: 2; 知识产权 (专利: 1) is fourth
    ]
    assert [r.confidence for r in found] == pytest.approx([6 / 12, 3 / 12, 2 / 12])


def test_no_keyword_no_route(cast, keywords):
    route(cast, keywords["tax"], "税务局")
    assert rules.routes(cast.zone_a, "园区夜景", "晚上的灯光很好看") == []
    # Zone B has no routing table: hits, but no department to suggest.
    assert rules.routes(cast.zone_b, "退税", "留抵退税") == []


def test_the_migration_seeds_the_same_words_as_the_defaults():
    migration = importlib.import_module("guanjia.dispatch.migrations.0002_default_keyword_rules")
    assert {code: " ".join(words) for code, words in DEFAULT_KEYWORDS.items()} == migration.DEFAULT_KEYWORDS


def test_default_rules_exist_after_migrating_and_are_never_overwritten(db):
    assert KeywordRule.objects.filter(category__code="tax").exists()  # seeded by the data migration
    KeywordRule.objects.filter(category__code="tax").update(words="退税", version=2)
    assert ensure_default_rules()["tax"].words == "退税"
    assert set(ensure_default_rules()) == set(AppealCategory.objects.values_list("code", flat=True)) & set(
        DEFAULT_KEYWORDS
    )


def test_a_keeper_saves_the_words_and_it_is_audited(cast, keywords):
    rule = keywords["tax"]
    saved = rules.save_rule(rule, words="退税，发票, 退税  留抵", version=rule.version, by=cast.dispatcher_a)
    assert (saved.words, saved.version, saved.updated_by) == ("退税 发票 留抵", 2, cast.dispatcher_a)
    record = AuditRecord.objects.get(action="routing.rule")
    assert record.actor == cast.dispatcher_a and record.detail["words"] == ["退税", "发票", "留抵"]
    # The system admin keeps the settings too.
    rules.save_rule(saved, words="退税", version=2, by=cast.sysadmin)
    assert KeywordRule.objects.get(pk=rule.pk).version == 3


def test_a_stale_version_conflicts_and_changes_nothing(cast, keywords):
    rule = keywords["tax"]
    stale = KeywordRule.objects.get(pk=rule.pk)
    rules.save_rule(rule, words="退税", version=1, by=cast.dispatcher_a)

    with pytest.raises(Conflict, match="关键词规则已被他人修改，请刷新后重试"):
        rules.save_rule(stale, words="发票", version=stale.version, by=cast.dispatcher_a)

    assert KeywordRule.objects.get(pk=rule.pk).words == "退税"
    assert AuditRecord.objects.filter(action="routing.rule").count() == 1


@pytest.mark.parametrize("words", ["", " ，, ", " ".join(f"词{i}" for i in range(201))])
def test_no_words_or_too_many_are_refused_naming_the_field(cast, keywords, words):
    rule = keywords["tax"]
    with pytest.raises(ServiceError, match="关键词"):
        rules.save_rule(rule, words=words, version=1, by=cast.dispatcher_a)
    assert KeywordRule.objects.get(pk=rule.pk).version == 1


def test_two_hundred_words_are_allowed(cast, keywords):
    rule = keywords["tax"]
    rules.save_rule(rule, words=" ".join(f"词{i}" for i in range(200)), version=1, by=cast.dispatcher_a)
    assert len(KeywordRule.objects.get(pk=rule.pk).word_list()) == 200


@pytest.mark.parametrize(
    "who",
    ["steward_a", "supervisor_a", "leader_a", "handler_a", "ent_user_a1", "secadmin", "auditor", "outsider"],
)
def test_only_keepers_edit_the_rules(cast, keywords, who):
    rule = keywords["tax"]
    with pytest.raises(NotAllowed):
        rules.save_rule(rule, words="退税", version=1, by=getattr(cast, who))
    assert KeywordRule.objects.get(pk=rule.pk).version == 1
    assert not AuditRecord.objects.filter(action="routing.rule").exists()


def test_an_inactive_dispatcher_is_no_keeper(cast, keywords):
    former = make_user("former_dispatcher", cast.centre_a, Role.DISPATCHER)
    former.is_active = False
    former.save()
    with pytest.raises(NotAllowed):
        rules.save_rule(keywords["tax"], words="退税", version=1, by=former)
