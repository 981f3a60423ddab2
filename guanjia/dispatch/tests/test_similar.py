"""Similar appeals (共性问题): paraphrases of the shipped appeals find their master, unrelated problems
find nothing, and what a user may see, the zone and the open-or-recent rule bound every answer."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Appeal, Channel, Status
from guanjia.dispatch import similar
from guanjia.dispatch.models import AppealBand

CORPUS = Path(similar.__file__).resolve().parents[1] / "appeals" / "data" / "appeals_zh.csv"
ROWS = list(csv.DictReader(CORPUS.open(encoding="utf-8")))
DUPLICATES = [(int(row["id"]), int(row["duplicate_of"])) for row in ROWS if row["duplicate_of"]]

# Problems the shipped appeals do not raise, each said twice in other words.
NOVEL = [
    (
        (
            "无人机航拍需要向哪里报备",
            "我们公司要给新厂区拍宣传片，请了摄影团队用无人机航拍，听说园区上空属于管控空域，飞之前要报备。"
            "请问向哪个单位申请，提前几天，需要提交飞手资质和飞行计划吗？",
        ),
        (
            "宣传片拍摄想用无人机，空域怎么申请",
            "下个月准备用无人机拍企业宣传片，摄影公司说这一片是禁飞区，要先拿到飞行许可。"
            "想问报备找谁，飞行计划和操控员执照要不要一起交，多久能批？",
        ),
    ),
    (
        (
            "厂区门口流浪狗伤人",
            "最近厂区大门外经常有一群流浪狗出没，昨天一名员工被咬伤，去打了狂犬疫苗。"
            "希望有关部门尽快把这些流浪狗收容处理。",
        ),
        (
            "门口流浪狗成群，员工被咬",
            "我们厂门外聚着七八只流浪狗，前天一位操作工被追着咬了一口，已经打了狂犬疫苗。"
            "请问流浪狗归哪个部门管，能不能派人来捕捉收容？",
        ),
    ),
    (
        (
            "海外仓退货商品无法复运进境",
            "我们做跨境电商，海外仓积压了一批客户退货的小家电，想运回国内翻新再卖，但报关行说退运要原出口报关单，"
            "很多单子是9610模式申报的找不到对应关系。怎么办理退货复进口？",
        ),
        (
            "跨境电商退货怎么退回国内",
            "公司通过跨境电商出口的蓝牙耳机在海外仓有大量退货，打算整批运回来返修。货代说需要出口报关单号对应，"
            "但我们走的是9610小包，没有一一对应的单证，海关这边有没有退货监管的办法？",
        ),
    ),
    (
        (
            "公司官网被黑客篡改",
            "今天早上发现公司官网首页被黑客篡改，挂上了赌博链接，服务器也被植入了勒索病毒，部分订单数据被加密。"
            "想请网警协助调查取证，并了解如何向网信部门报告网络安全事件。",
        ),
        (
            "官网首页被篡改挂了赌博链接",
            "我们公司网站昨晚遭到黑客入侵，首页被篡改成赌博广告，后台服务器还中了勒索病毒。"
            "请问网络安全事件应该向哪里报案，网警能不能上门帮助取证？",
        ),
    ),
]

# Pairs of categories of the shipped appeals that share no problem: no appeal of one scores above 0.04
# against an appeal of the other (the nearest pairs across categories score 0.2–0.36: 医疗器械经营范围
# under 审批许可 and 市场监管, 技能证书补贴 under 用工人才 and 政策兑现 ...).
APART = [("物流交通", "知识产权"), ("水电气网", "融资信贷"), ("安全环保", "融资信贷")]


def make_appeal(enterprise, title, body, *, by, status=Status.SUBMITTED, age_days=0, master=None) -> Appeal:
    now = timezone.now()
    return Appeal.objects.create(
        zone_id=enterprise.zone_id,
        enterprise=enterprise,
        title=title,
        body=body,
        channel=Channel.STEWARD,
        submitted_by=by,
        submitted_at=now - timedelta(days=age_days),
        accept_due=now + timedelta(days=1),
        status=status,
        master=master,
    )


def load_corpus(cast, rows=ROWS) -> dict[int, Appeal]:
    """The shipped appeals in zone A, alternately of its two enterprises, indexed: csv id -> Appeal."""
    appeals = {}
    for number, row in enumerate(rows):
        enterprise = cast.ent_a1 if number % 2 == 0 else cast.ent_a2
        appeals[int(row["id"])] = make_appeal(enterprise, row["title"], row["body"], by=cast.steward_a)
    assert similar.rebuild(cast.zone_a.pk) == len(rows)
    return appeals


@pytest.fixture
def corpus(cast) -> dict[int, Appeal]:
    return load_corpus(cast)


def test_paraphrases_find_their_master(cast, corpus):
    within = Appeal.objects.visible_to(cast.dispatcher_a)
    found = 0
    for duplicate, master in DUPLICATES:
        best = similar.similar_to(corpus[duplicate], within=within, limit=3)
        assert corpus[duplicate] not in [hit.appeal for hit in best]
        assert all(similar.MIN_SCORE <= hit.score <= 1 for hit in best)
        assert [hit.score for hit in best] == sorted((hit.score for hit in best), reverse=True)
        for hit in best:
            assert hit.same_enterprise == (hit.appeal.enterprise_id == corpus[duplicate].enterprise_id)
        found += corpus[master] in [hit.appeal for hit in best]
    # 23 of 24 with the module's seed and 40 bands; the one missed (#55 of #41) shares three words of
    # 54 and scores 0.033 on its text, under MIN_SCORE.
    assert found >= 23, found


def test_problems_absent_from_the_shipped_appeals_find_only_their_paraphrase(cast, corpus, monkeypatch):
    within = Appeal.objects.visible_to(cast.dispatcher_a)
    firsts = [make_appeal(cast.ent_a1, *first, by=cast.steward_a) for first, _ in NOVEL]
    for appeal in firsts:
        similar.remember(appeal)
    for first, (_, (title, body)) in zip(firsts, NOVEL, strict=True):
        found = similar.similar_to_text(
            zone_id=cast.zone_a.pk, title=title, body=body, within=within, enterprise_id=cast.ent_a2.pk
        )
        assert [hit.appeal for hit in found] == [first]
        assert found[0].score > 0.2 and not found[0].same_enterprise
    # The index alone makes the shipped appeals candidates of every such text: MIN_SCORE keeps them out.
    monkeypatch.setattr(similar, "MIN_SCORE", 0.0)
    for _, (title, body) in NOVEL:
        found = similar.similar_to_text(zone_id=cast.zone_a.pk, title=title, body=body, within=within)
        assert len(found) == 5


@pytest.mark.parametrize("categories", APART)
def test_clearly_different_categories_are_not_listed(cast, monkeypatch, categories):
    rows = [row for row in ROWS if row["category"] in categories]
    appeals = load_corpus(cast, rows)
    category = {appeals[int(row["id"])].pk: row["category"] for row in rows}
    within = Appeal.objects.visible_to(cast.dispatcher_a)

    def crossings() -> tuple[int, int]:
        listed = crossed = 0
        for appeal in appeals.values():
            for hit in similar.similar_to(appeal, within=within):
                listed += 1
                crossed += category[hit.appeal.pk] != category[appeal.pk]
        return listed, crossed

    listed, crossed = crossings()
    assert listed >= 20 and crossed == 0  # appeals of one category are listed, never across
    monkeypatch.setattr(similar, "MIN_SCORE", 0.0)
    listed, crossed = crossings()
    assert crossed > 10  # what the index alone would have listed


def test_an_enterprise_user_sees_only_its_own_appeals(cast, corpus):
    within = Appeal.objects.visible_to(cast.ent_user_a1)
    listed = 0
    for duplicate, master in DUPLICATES:
        found = similar.similar_to(corpus[duplicate], within=within)
        listed += len(found)
        assert all(hit.appeal.enterprise_id == cast.ent_a1.pk for hit in found)
        if corpus[master].enterprise_id != cast.ent_a1.pk:
            assert corpus[master] not in [hit.appeal for hit in found]
    assert listed > 0
    # Who sees no appeal gets none, whatever the index holds.
    for user in (cast.outsider, cast.handler_a, cast.steward_b):
        assert similar.similar_to(corpus[11], within=Appeal.objects.visible_to(user)) == []


def test_another_zones_appeals_are_never_candidates(cast, corpus):
    duplicate, master = DUPLICATES[0]
    text = ROWS[master - 1]
    in_b = make_appeal(cast.ent_b1, text["title"], text["body"], by=cast.steward_b)
    similar.remember(in_b)
    within = Appeal.objects.visible_to(cast.leader_city)  # sees both zones
    found = [hit.appeal for hit in similar.similar_to(corpus[duplicate], within=within)]
    assert corpus[master] in found and in_b not in found
    in_zone_b = similar.similar_to_text(
        zone_id=cast.zone_b.pk, title=text["title"], body=text["body"], within=within
    )
    # The same text: zone A's appeal holds the very same band keys, and is not listed.
    assert [hit.appeal for hit in in_zone_b] == [in_b]
    assert set(similar.band_keys(text["title"], text["body"])) <= set(
        AppealBand.objects.filter(appeal=corpus[master]).values_list("key", flat=True)
    )
    other = make_appeal(
        cast.ent_b1, ROWS[duplicate - 1]["title"], ROWS[duplicate - 1]["body"], by=cast.steward_b
    )
    similar.remember(other)
    assert [hit.appeal for hit in similar.similar_to(other, within=within)] == [in_b]


@pytest.mark.parametrize(
    ("status", "age_days", "listed"),
    [
        (Status.CLOSED, 120, False),
        (Status.DECLINED, 91, False),
        (Status.CLOSED, 30, True),
        (Status.SIGNED, 120, True),
        (Status.SUBMITTED, 400, True),
    ],
)
def test_open_or_recent_only(cast, status, age_days, listed):
    within = Appeal.objects.visible_to(cast.dispatcher_a)
    duplicate, master = DUPLICATES[0]
    old = make_appeal(cast.ent_a1, ROWS[master - 1]["title"], ROWS[master - 1]["body"], by=cast.steward_a)
    Appeal.objects.filter(pk=old.pk).update(
        status=status, submitted_at=timezone.now() - timedelta(days=age_days)
    )
    new = make_appeal(
        cast.ent_a2, ROWS[duplicate - 1]["title"], ROWS[duplicate - 1]["body"], by=cast.steward_a
    )
    similar.rebuild(cast.zone_a.pk)
    assert ([hit.appeal.pk for hit in similar.similar_to(new, within=within)] == [old.pk]) is listed


def test_merged_appeals_are_represented_by_their_master(cast):
    within = Appeal.objects.visible_to(cast.dispatcher_a)
    duplicate, master = DUPLICATES[0]
    texts = (ROWS[master - 1]["title"], ROWS[master - 1]["body"])
    head = make_appeal(cast.ent_a1, *texts, by=cast.steward_a, status=Status.DISPATCHED)
    child = make_appeal(cast.ent_a2, *texts, by=cast.steward_a, status=Status.MERGED, master=head)
    new = make_appeal(
        cast.ent_a2, ROWS[duplicate - 1]["title"], ROWS[duplicate - 1]["body"], by=cast.steward_a
    )
    similar.rebuild()
    # The child is never offered (one cannot merge into it); its master is.
    assert [hit.appeal for hit in similar.similar_to(new, within=within)] == [head]
    # The child's own master is its master, not a candidate; nor is a master offered its children.
    assert [hit.appeal for hit in similar.similar_to(child, within=within)] == [new]
    assert [hit.appeal for hit in similar.similar_to(head, within=within)] == [new]


def test_submitting_an_appeal_indexes_it(cast):
    appeal = lifecycle.submit_appeal(
        cast.ent_a1, title=ROWS[1]["title"], body=ROWS[1]["body"], channel=Channel.PORTAL, by=cast.ent_user_a1
    )
    keys = list(AppealBand.objects.filter(appeal=appeal).values_list("key", "zone_id"))
    assert len(keys) == similar.BANDS
    assert {zone for _, zone in keys} == {cast.zone_a.pk}
    assert sorted(key for key, _ in keys) == sorted(similar.band_keys(ROWS[1]["title"], ROWS[1]["body"]))
    similar.forget(appeal.pk)
    assert not AppealBand.objects.filter(appeal=appeal).exists()


def test_remember_rewrites_and_rebuild_is_idempotent(cast, corpus):
    count = AppealBand.objects.count()
    rows = set(AppealBand.objects.values_list("key", "appeal_id", "zone_id"))
    assert count == 240 * similar.BANDS
    assert similar.rebuild() == 240
    assert AppealBand.objects.count() == count
    assert set(AppealBand.objects.values_list("key", "appeal_id", "zone_id")) == rows
    appeal = corpus[1]
    before = set(AppealBand.objects.filter(appeal=appeal).values_list("key", flat=True))
    Appeal.objects.filter(pk=appeal.pk).update(title=ROWS[5]["title"], body=ROWS[5]["body"])
    appeal.refresh_from_db()
    similar.remember(appeal)
    after = set(AppealBand.objects.filter(appeal=appeal).values_list("key", flat=True))
    assert after == set(similar.band_keys(ROWS[5]["title"], ROWS[5]["body"])) and after != before
    assert AppealBand.objects.count() == count


def test_band_keys_are_stable():
    """Stored bands are compared with keys computed later, maybe by another process or release: a
    change of the hash family or the features must come with a rebuild (guanjia reindex_appeals)."""
    keys = similar.band_keys(
        "二期厂房容积率调整咨询", "工业用地提高容积率要走什么程序，是否要补缴土地出让金？"
    )
    assert len(keys) == similar.BANDS and all(-(2**63) <= key < 2**63 for key in keys)
    assert keys[:2] == [EXPECTED_FIRST_KEYS[0], EXPECTED_FIRST_KEYS[1]]
    assert similar.band_keys("请问", "我们想咨询一下怎么办？") == []  # stop words only: not indexed


EXPECTED_FIRST_KEYS = (-1034927613562456098, -2134441468288415456)


def test_a_lookup_is_three_queries(cast, corpus, django_assert_num_queries):
    within = Appeal.objects.visible_to(cast.dispatcher_a)  # its roles and zones read here
    with django_assert_num_queries(3):  # the bands, the candidates in scope, the listed appeals
        found = similar.similar_to(corpus[11], within=within)
        assert found and found[0].appeal.enterprise.name  # enterprise read with the appeal


def test_pruning_keeps_only_the_appeals_a_lookup_may_list(cast):
    duplicate, master = DUPLICATES[0]
    texts = (ROWS[master - 1]["title"], ROWS[master - 1]["body"])
    closed_old = make_appeal(cast.ent_a1, *texts, by=cast.steward_a, status=Status.CLOSED, age_days=120)
    closed_recent = make_appeal(cast.ent_a1, *texts, by=cast.steward_a, status=Status.CLOSED, age_days=30)
    open_old = make_appeal(cast.ent_a2, *texts, by=cast.steward_a, status=Status.SIGNED, age_days=400)
    merged = make_appeal(cast.ent_a2, *texts, by=cast.steward_a, status=Status.MERGED, master=open_old)
    for appeal in (closed_old, closed_recent, open_old, merged):
        similar.remember(appeal)  # as each was when it was submitted

    assert similar.prune() == 2
    indexed = set(AppealBand.objects.values_list("appeal_id", flat=True))
    assert indexed == {closed_recent.pk, open_old.pk}
    assert similar.prune() == 0
    # A rebuild writes what pruning keeps, and the lookups list the same appeals as before.
    assert similar.rebuild(cast.zone_a.pk) == 2
    assert set(AppealBand.objects.values_list("appeal_id", flat=True)) == indexed
    new = make_appeal(
        cast.ent_a1, ROWS[duplicate - 1]["title"], ROWS[duplicate - 1]["body"], by=cast.steward_a
    )
    listed = {
        hit.appeal.pk for hit in similar.similar_to(new, within=Appeal.objects.visible_to(cast.dispatcher_a))
    }
    assert listed == {closed_recent.pk, open_old.pk}
