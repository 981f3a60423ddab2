"""Matching on a hand-built set: boundary values, near misses, policies in and out of force, zone
coverage and tags, in both directions (benefit → enterprises, enterprise → benefits)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from guanjia.core.models import OrgUnit
from guanjia.enterprises.models import Enterprise, Scale, Tag, Tier
from guanjia.policies import matching
from guanjia.policies.matching import (
    anniversary,
    benefits_for,
    founded_by,
    full_years,
    near_misses,
    qualifies,
    qualifying,
    steward_worklist,
)
from guanjia.policies.models import BenefitItem, Delivery, PushChannel
from guanjia.policies.tests.helpers import make_item, make_policy
from guanjia.testing import Cast, make_enterprise

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 28)
_counter = iter(range(1, 10_000))


def enterprise(cast: Cast, zone: OrgUnit | None = None, **fields) -> Enterprise:
    """An enterprise of zone A (unless told) with the USCC checks left to the registry's own tests."""
    number = next(_counter)
    fields.setdefault("scale", Scale.SMALL)
    fields.setdefault("tier", Tier.GENERAL)
    return make_enterprise(
        f"91TEST{number:012d}", f"测试企业{number:04d}", zone or cast.zone_a, None, **fields
    )


def ids(enterprises) -> set[int]:
    return {e.pk for e in enterprises}


def city_department(cast: Cast) -> OrgUnit:
    return OrgUnit.objects.create(
        name="示例市科技局", code="city-tech", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.city
    )


def benefit_ids(ent: Enterprise, on: date = DAY) -> set[int]:
    return set(benefits_for(ent, on=on).values_list("pk", flat=True))


# --- full years -------------------------------------------------------------------------------------------


def test_full_years_count_anniversaries():
    assert full_years(date(2021, 11, 28), date(2026, 11, 28)) == 5
    assert full_years(date(2021, 11, 28), date(2026, 11, 27)) == 4
    assert full_years(date(2020, 2, 29), date(2021, 2, 28)) == 1  # Feb 29 founder in a common year
    assert full_years(date(2020, 2, 29), date(2021, 2, 27)) == 0
    assert full_years(date(2020, 2, 29), date(2024, 2, 28)) == 3  # leap year: its own Feb 29 counts
    assert full_years(date(2020, 2, 29), date(2024, 2, 29)) == 4
    assert full_years(date(2027, 1, 1), date(2026, 11, 28)) == -1  # founded after the day
    assert anniversary(date(2020, 2, 29), 1) == date(2021, 2, 28)


def test_founded_by_is_the_last_date_with_enough_years():
    assert founded_by(date(2026, 11, 28), 5) == date(2021, 11, 28)
    assert founded_by(date(2021, 2, 28), 1) == date(2020, 2, 29)  # the Feb 29 founder counts
    assert founded_by(date(2024, 2, 29), 1) == date(2023, 2, 28)
    assert founded_by(date(2024, 2, 28), 4) == date(2020, 2, 28)
    assert founded_by(date(2026, 1, 1), 3000) is None
    # the two definitions agree on every founding day around the boundaries
    for on in (date(2021, 2, 28), date(2024, 2, 29), date(2024, 2, 28), date(2026, 11, 28)):
        for years in (0, 1, 3, 4, 5):
            cutoff = founded_by(on, years)
            assert cutoff is not None
            assert full_years(cutoff, on) >= years
            assert full_years(date.fromordinal(cutoff.toordinal() + 1), on) < years


# --- boundaries, benefit → enterprises and back -----------------------------------------------------------


def test_capital_limits_are_included_and_a_missing_capital_misses(cast):
    item = make_item(make_policy(cast.market_a), capital_min=Decimal("100"), capital_max=Decimal("5000"))
    low, at_low, at_high, high, unknown = (
        enterprise(cast, registered_capital=capital)
        for capital in (Decimal("99.99"), Decimal("100"), Decimal("5000"), Decimal("5000.01"), None)
    )
    assert ids(qualifying(item, on=DAY, among=Enterprise.objects.filter(name__startswith="测试"))) == {
        at_low.pk,
        at_high.pk,
    }
    near = {(m.enterprise.pk, m.missed) for m in near_misses(item, on=DAY)}
    assert {(low.pk, "capital"), (high.pk, "capital"), (unknown.pk, "capital")} <= near
    assert item.pk in benefit_ids(at_low) and item.pk in benefit_ids(at_high)
    assert item.pk not in benefit_ids(low) | benefit_ids(high) | benefit_ids(unknown)


def test_min_years_counts_from_the_anniversary_day(cast):
    item = make_item(make_policy(cast.market_a), min_years=5)
    ent = enterprise(cast, founded_on=date(2021, 11, 28))
    assert qualifies(item, ent, on=date(2026, 11, 28))
    assert not qualifies(item, ent, on=date(2026, 11, 27))
    assert item.pk in benefit_ids(ent, date(2026, 11, 28))
    assert item.pk not in benefit_ids(ent, date(2026, 11, 27))
    [miss] = [m for m in near_misses(item, on=date(2026, 11, 27)) if m.enterprise.pk == ent.pk]
    assert miss.missed == "years" and miss.label == "成立年限"
    assert "4 年" in miss.has


def test_max_years_stops_on_the_anniversary_day(cast):
    item = make_item(make_policy(cast.market_a), max_years=5)
    ent = enterprise(cast, founded_on=date(2021, 11, 28))
    assert qualifies(item, ent, on=date(2026, 11, 27))
    assert not qualifies(item, ent, on=date(2026, 11, 28))
    assert item.pk in benefit_ids(ent, date(2026, 11, 27))
    assert item.pk not in benefit_ids(ent, date(2026, 11, 28))


def test_a_missing_founding_date_misses_a_years_condition(cast):
    item = make_item(make_policy(cast.market_a), max_years=3)
    ent = enterprise(cast, founded_on=None)
    assert not qualifies(item, ent, on=DAY)
    assert item.pk not in benefit_ids(ent)
    assert [m.missed for m in near_misses(item, on=DAY) if m.enterprise.pk == ent.pk] == ["years"]


def test_a_29_february_founder_reaches_its_anniversary_on_28_february(cast):
    item = make_item(make_policy(cast.market_a), min_years=1)
    leapling = enterprise(cast, founded_on=date(2020, 2, 29))
    march = enterprise(cast, founded_on=date(2020, 3, 1))
    assert qualifies(item, leapling, on=date(2021, 2, 28))
    assert not qualifies(item, leapling, on=date(2021, 2, 27))
    assert not qualifies(item, march, on=date(2021, 2, 28))
    assert item.pk in benefit_ids(leapling, date(2021, 2, 28))
    assert item.pk not in benefit_ids(leapling, date(2021, 2, 27))
    assert item.pk not in benefit_ids(march, date(2021, 2, 28))
    # in a leap year it waits for its own day
    four = make_item(make_policy(cast.market_a), min_years=4)
    assert not qualifies(four, leapling, on=date(2024, 2, 28))
    assert qualifies(four, leapling, on=date(2024, 2, 29))


def test_more_years_than_the_calendar_holds_qualifies_nobody(cast):
    item = make_item(make_policy(cast.market_a), min_years=3000)
    ent = enterprise(cast, founded_on=date(1990, 1, 1))
    assert not qualifies(item, ent, on=DAY)
    assert item.pk not in benefit_ids(ent)
    assert [m.missed for m in near_misses(item, on=DAY) if m.enterprise.pk == ent.pk] == ["years"]


# --- near misses --------------------------------------------------------------------------------------------


def test_near_misses_name_the_one_condition_missed(cast):
    tag = Tag.objects.create(name="高新技术企业")
    item = make_item(
        make_policy(cast.market_a),
        divisions=["39", "26"],
        scales=[Scale.SMALL, Scale.MEDIUM],
        tiers=[Tier.KEY, Tier.GENERAL],
        tags=[tag],
        min_years=2,
        capital_max=Decimal("1000"),
    )
    fits: dict[str, Any] = {
        "industry_division": "39",
        "scale": Scale.SMALL,
        "tier": Tier.GENERAL,
        "founded_on": date(2020, 1, 1),
        "registered_capital": Decimal("500"),
    }
    qualified = enterprise(cast, **fits)
    one_off = {
        "division": enterprise(cast, **{**fits, "industry_division": "54"}),
        "scale": enterprise(cast, **{**fits, "scale": Scale.LARGE}),
        "tier": enterprise(cast, **{**fits, "tier": Tier.ABOVE_SCALE}),
        "tags": enterprise(cast, **fits),
        "years": enterprise(cast, **{**fits, "founded_on": date(2025, 1, 1)}),
        "capital": enterprise(cast, **{**fits, "registered_capital": Decimal("1000.01")}),
    }
    two_off = enterprise(cast, **{**fits, "scale": Scale.LARGE, "tier": Tier.ABOVE_SCALE})
    blank_division = enterprise(cast, **{**fits, "industry_division": ""})
    for ent in [qualified, *one_off.values(), two_off, blank_division]:
        if ent is not one_off["tags"]:
            ent.tags.add(tag)
    mine = Enterprise.objects.filter(name__startswith="测试")

    assert ids(qualifying(item, on=DAY, among=mine)) == {qualified.pk}
    found = {m.enterprise.pk: m for m in near_misses(item, on=DAY, among=mine)}
    assert {pk: m.missed for pk, m in found.items()} == {
        **{ent.pk: code for code, ent in one_off.items()},
        blank_division.pk: "division",
    }
    assert found[one_off["scale"].pk].label == "企业规模"
    assert found[one_off["scale"].pk].has == "大型"
    assert found[one_off["capital"].pk].has == "1000.01 万元"
    assert found[blank_division.pk].has == "未填写"
    assert two_off.pk not in found
    assert matching.requirement_text(item, "scale") == "中型、小型"
    assert matching.requirement_text(item, "capital") == "不高于 1000 万元"
    assert matching.requirement_text(item, "tags") == "任一：高新技术企业"
    assert benefit_ids(qualified) == {item.pk}
    for ent in [*one_off.values(), two_off, blank_division]:
        assert benefit_ids(ent) == set()


def test_an_item_without_conditions_fits_every_covered_enterprise_and_has_no_near_misses(cast):
    item = make_item(make_policy(cast.market_a))
    assert ids(qualifying(item, on=DAY)) == {cast.ent_a1.pk, cast.ent_a2.pk}
    assert near_misses(item, on=DAY) == []
    assert matching.counts(item, on=DAY) == (2, 0)


def test_counts_are_the_lengths_of_both_lists(cast):
    item = make_item(make_policy(cast.market_a), scales=[Scale.SMALL], tiers=[Tier.GENERAL])
    # ent_a1 is 重点 (misses one), ent_a2 fits, a large 重点 one misses two
    enterprise(cast, scale=Scale.LARGE, tier=Tier.KEY)
    assert matching.counts(item, on=DAY) == (1, 1)
    assert matching.counts(item, on=DAY, among=Enterprise.objects.filter(pk=cast.ent_a1.pk)) == (0, 1)
    late = make_item(make_policy(cast.market_a, effective_on=date(2027, 1, 1)))
    assert matching.counts(late, on=DAY) == (0, 0)


# --- in force, coverage, zones, tags -----------------------------------------------------------------------


def test_a_policy_not_in_force_matches_nothing(cast):
    policy = make_policy(cast.market_a, effective_on=date(2026, 12, 1), expires_on=date(2027, 11, 30))
    item = make_item(policy, scales=[Scale.LARGE])
    big = enterprise(cast, scale=Scale.LARGE)
    for day in (date(2026, 11, 30), date(2027, 12, 1)):
        assert not qualifying(item, on=day).exists()
        assert near_misses(item, on=day) == []
        assert benefit_ids(big, day) == set()
        assert not qualifies(item, big, on=day)
    for day in (date(2026, 12, 1), date(2027, 11, 30)):  # both ends are in force
        assert ids(qualifying(item, on=day)) == {big.pk}
        assert benefit_ids(big, day) == {item.pk}


def test_coverage_city_department_reaches_every_zone_zone_department_only_its_own(cast):
    other_city = OrgUnit.objects.create(name="邻市", code="city-2", kind=OrgUnit.Kind.CITY)
    far_zone = OrgUnit.objects.create(
        name="邻市园区", code="zone-far", kind=OrgUnit.Kind.ZONE, parent=other_city
    )
    far = enterprise(cast, zone=far_zone)
    city_item = make_item(make_policy(city_department(cast)))
    zone_item = make_item(make_policy(cast.market_a))
    assert ids(qualifying(city_item, on=DAY)) == {cast.ent_a1.pk, cast.ent_a2.pk, cast.ent_b1.pk}
    assert ids(qualifying(zone_item, on=DAY)) == {cast.ent_a1.pk, cast.ent_a2.pk}
    assert benefit_ids(cast.ent_a1) == {city_item.pk, zone_item.pk}
    assert benefit_ids(cast.ent_b1) == {city_item.pk}
    assert benefit_ids(far) == set()


def test_item_zones_narrow_the_coverage(cast):
    item = make_item(make_policy(city_department(cast)), zones=[cast.zone_b])
    assert ids(qualifying(item, on=DAY)) == {cast.ent_b1.pk}
    assert benefit_ids(cast.ent_b1) == {item.pk}
    assert benefit_ids(cast.ent_a1) == set()
    # a zone outside the coverage adds nothing: a zone department's item naming zone B reaches no one
    narrowed = make_item(make_policy(cast.market_a), zones=[cast.zone_b])
    assert not qualifying(narrowed, on=DAY).exists()
    assert narrowed.pk not in benefit_ids(cast.ent_b1)


def test_tags_qualify_with_any_one_of_them(cast):
    hi, sp, other = (Tag.objects.create(name=n) for n in ("高新技术企业", "专精特新", "龙头"))
    item = make_item(make_policy(cast.market_a), tags=[hi, sp])
    cast.ent_a1.tags.add(sp, other)
    cast.ent_a2.tags.add(other)
    assert ids(qualifying(item, on=DAY)) == {cast.ent_a1.pk}
    assert [(m.enterprise.pk, m.missed) for m in near_misses(item, on=DAY)] == [(cast.ent_a2.pk, "tags")]
    assert benefit_ids(cast.ent_a1) == {item.pk}
    assert benefit_ids(cast.ent_a2) == set()


def test_among_narrows_to_the_enterprises_given(cast):
    item = make_item(make_policy(cast.market_a))
    assert ids(qualifying(item, on=DAY, among=Enterprise.objects.filter(steward=cast.steward_a))) == {
        cast.ent_a1.pk
    }


# --- the steward's worklist ------------------------------------------------------------------------------


def test_steward_worklist_lists_its_enterprises_benefits_not_yet_pushed(cast):
    pushed, open_item, large_only = (
        make_item(make_policy(cast.market_a), name=name, **conditions)
        for name, conditions in (("已推送", {}), ("未推送", {}), ("大型", {"scales": [Scale.LARGE]}))
    )
    Delivery.objects.create(
        item=pushed,
        enterprise=cast.ent_a1,
        zone=cast.zone_a,
        channel=PushChannel.STEWARD,
        pushed_by=cast.steward_a,
    )
    worklist = steward_worklist(cast.steward_a, on=DAY)
    rows = {e.pk: [i.pk for i in worklist.pending(e)] for e in worklist.enterprises}
    assert rows == {cast.ent_a1.pk: [open_item.pk]}
    assert large_only in worklist.items
    # once everything is pushed, the enterprise leaves the list
    Delivery.objects.create(
        item=open_item, enterprise=cast.ent_a1, zone=cast.zone_a, channel=PushChannel.STEWARD
    )
    assert steward_worklist(cast.steward_a, on=DAY).enterprises == []
    # no candidate items at all (another zone's steward, zone A's policies): an empty list
    empty = steward_worklist(cast.steward_b, on=DAY)
    assert empty.items == [] and empty.enterprises == []


def test_benefits_for_lists_items_of_in_force_policies_only(cast):
    current = make_item(make_policy(cast.market_a))
    make_item(make_policy(cast.market_a, effective_on=date(2020, 1, 1), expires_on=date(2025, 12, 31)))
    assert list(benefits_for(cast.ent_a1, on=DAY)) == [current]
    assert BenefitItem.objects.count() == 2
