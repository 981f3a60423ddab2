"""The policies part of `guanjia demo-data`: the issue's numbers (20+ policies, 40+ benefit items),
conditions of every kind, policies in both zones, and deliveries in every state that keep
every rule of the delivery service and go only to enterprises that qualify."""

from __future__ import annotations

import re
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.core.workcalendar import add_workdays
from guanjia.enterprises.demo import DEMO_PASSWORD
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.policies import matching
from guanjia.policies.access import may_keep, today
from guanjia.policies.delivery import TRANSITIONS, is_overdue
from guanjia.policies.demo import ZONE_KEEPERS
from guanjia.policies.models import BenefitItem, Delivery, DeliveryStatus, Policy, PushChannel

COUNT = 40


@pytest.fixture(scope="module")
def demo_area(django_db_setup, django_db_blocker):
    """The demo, built once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo_data", "--enterprises", str(COUNT), stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def area(demo_area, db) -> dict[str, OrgUnit]:
    return {unit.code: unit for unit in OrgUnit.objects.all()}


def test_twenty_policies_with_forty_items_of_every_kind_of_condition(area):
    policies = list(Policy.objects.select_related("department__parent"))
    items = list(BenefitItem.objects.prefetch_related("tags", "zones"))
    assert len(policies) >= 20 and len(items) >= 40
    assert all(policy.items.exists() for policy in policies)
    day = today()
    assert sum(1 for p in policies if p.expires_on is not None and p.expires_on < day) >= 3
    assert (
        sum(1 for p in policies if p.effective_on <= day and (p.expires_on is None or day <= p.expires_on))
        >= 15
    )
    for policy in policies:
        number = re.fullmatch(r".+〔(\d{4})〕\d+号", policy.document_number)
        assert number and int(number.group(1)) == policy.effective_on.year, policy.document_number
        assert policy.full_text.startswith("第一条") and policy.title and policy.issuer
    assert sum(1 for item in items if item.auto_grant) >= 5
    assert len({item.category for item in items}) >= 5
    kinds = {
        "divisions": any(item.divisions for item in items),
        "scales": any(item.scales for item in items),
        "tiers": any(item.tiers for item in items),
        "tags": any(item.tags.all() for item in items),
        "min_years": any(item.min_years for item in items),
        "max_years": any(item.max_years for item in items),
        "capital_min": any(item.capital_min is not None for item in items),
        "capital_max": any(item.capital_max is not None for item in items),
        "zones": any(item.zones.all() for item in items),
        "other": any(item.other_conditions for item in items),
        "none": any(
            not (item.divisions or item.scales or item.tiers or item.min_years or item.max_years)
            and item.capital_min is None
            and item.capital_max is None
            and not item.tags.all()
            for item in items
        ),
    }
    assert all(kinds.values()), kinds


def test_each_zone_has_policies_and_every_policy_has_its_keepers(area):
    for code in ("jn-gx", "jn-jk"):
        assert Policy.objects.filter(department__parent=area[code]).count() >= 5, code
    # Departments hang under zones only: no policy belongs to a unit under the city itself.
    assert not Policy.objects.filter(department__parent__kind=OrgUnit.Kind.CITY).exists()
    for zone, key, username in ZONE_KEEPERS:
        handler = User.objects.get(username=username)
        assert handler.unit == area[f"jn-{zone}-{key}"] and handler.has_role(Role.HANDLER)
        assert handler.check_password(DEMO_PASSWORD)
    for policy in Policy.objects.select_related("created_by", "department"):
        assert may_keep(policy.created_by, policy), policy.title
    # A steward of 经开区 reads its own zone's policies (the city's ones 经开区 carries out among them),
    # never 高新区's.
    steward = User.objects.get(username="gj_steward5")
    seen = Policy.objects.visible_to(steward)
    assert seen.filter(title__startswith="江南市").exists()
    assert not seen.filter(department__parent=area["jn-gx"]).exists()


def test_deliveries_in_every_state_keep_the_rules_of_the_delivery_service(area):
    deliveries = list(
        Delivery.objects.select_related("item__policy__department", "enterprise__steward").prefetch_related(
            "events"
        )
    )
    first_zone = [d for d in deliveries if d.zone_id == area["jn-gx"].pk]
    assert {d.status for d in first_zone} == set(DeliveryStatus.values)
    assert {d.channel for d in first_zone} == set(PushChannel.values)
    overdue = [d for d in first_zone if is_overdue(d)]
    assert overdue and any(d.status == DeliveryStatus.APPROVED and not is_overdue(d) for d in first_zone)
    assert sum(1 for d in deliveries if d.zone_id == area["jn-jk"].pk) < len(first_zone)
    members = {m.enterprise_id: m.user_id for m in EnterpriseMembership.objects.filter(is_active=True)}
    now = timezone.now()
    for d in deliveries:
        events = list(d.events.all())
        assert d.zone_id == d.enterprise.zone_id
        # No step skipped: each event starts where the last one ended, along the service's table.
        assert events[0].from_status == "" and events[-1].to_status == d.status, d.pk
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_status == before.to_status and after.to_status in TRANSITIONS[before.to_status]
            assert before.at < after.at, d.pk
        assert events[0].at == d.pushed_at and d.updated_at == events[-1].at <= now
        assert d.version == len(events)
        reached = {event.to_status for event in events}
        auto = d.channel == PushChannel.AUTO
        assert auto == (events[0].to_status == DeliveryStatus.APPLIED) == d.item.auto_grant, d.pk
        assert d.pushed_by is not None
        if d.channel == PushChannel.STEWARD:
            assert d.pushed_by == d.enterprise.steward
        else:
            assert may_keep(d.pushed_by, d.item.policy)
        assert (d.applied_at is not None) == (DeliveryStatus.APPLIED in reached)
        if d.applied_at and not auto:
            assert d.applied_by_id in (members.get(d.enterprise_id), d.enterprise.steward_id)
        if DeliveryStatus.APPROVED in reached:
            assert d.approved_by is not None and may_keep(d.approved_by, d.item.policy)
            approved_on = timezone.localdate(d.approved_at)
            assert d.disburse_due == add_workdays(approved_on, d.item.disburse_within_days)
        else:
            assert d.approved_at is None and d.disburse_due is None
        if d.status == DeliveryStatus.DISBURSED:
            assert d.amount is not None and d.amount > 0
            assert d.item.max_amount is None or d.amount <= d.item.max_amount
            assert d.disbursed_on is not None and approved_on <= d.disbursed_on < today()
        else:
            assert d.amount is None and d.disbursed_on is None
        assert bool(d.reject_reason) == (d.status == DeliveryStatus.REJECTED) == (d.rejected_at is not None)
        # The whole story happened while the policy was in force.
        policy = d.item.policy
        assert policy.effective_on <= timezone.localdate(d.pushed_at)
        assert policy.expires_on is None or timezone.localdate(d.updated_at) <= policy.expires_on


def test_deliveries_go_to_enterprises_that_qualify(area):
    deliveries = Delivery.objects.select_related("item__policy", "enterprise")
    for d in deliveries:
        assert matching.qualifies(d.item, d.enterprise, on=timezone.localdate(d.pushed_at)), d.pk
        if d.status in (DeliveryStatus.PUSHED, DeliveryStatus.APPLIED, DeliveryStatus.APPROVED):
            assert matching.qualifies(d.item, d.enterprise), d.pk
    # Only a sample is delivered: stewards still have benefits to push.
    steward = User.objects.get(username="gj_steward1")
    worklist = matching.steward_worklist(steward)
    assert sum(len(worklist.pending(e)) for e in worklist.enterprises) > 0
    assert Delivery.objects.filter(enterprise__steward=steward).count() >= 3


def test_the_demo_enterprise_user_finds_benefits_on_its_portal(area):
    user = User.objects.get(username="gj_enterprise")
    enterprise = EnterpriseMembership.objects.get(user=user).enterprise
    mine = list(Delivery.objects.visible_to(user).select_related("item"))
    assert {d.enterprise_id for d in mine} == {enterprise.pk}
    statuses = Counter(d.status for d in mine)
    assert statuses[DeliveryStatus.PUSHED] >= 1 and len(statuses) >= 3, statuses
    pushed = next(d for d in mine if d.status == DeliveryStatus.PUSHED)
    assert matching.benefits_for(enterprise).filter(pk=pushed.item_id).exists()
    client = Client()
    client.force_login(user)
    response = client.get("/portal/policies/")
    assert response.status_code == 200 and pushed.item.name in response.content.decode()
