"""A change of an enterprise's steward (enterprises.signals.steward_changed, sent in every handover)
moves its targets in campaigns not yet ended, if they were the previous steward's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guanjia.campaigns import services
from guanjia.campaigns.models import CampaignTarget
from guanjia.campaigns.tests.helpers import make_campaign
from guanjia.core.roles import Role
from guanjia.enterprises import services as enterprises
from guanjia.enterprises.models import Enterprise, StewardAssignment
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db


def _steward(campaign, enterprise):
    return CampaignTarget.objects.get(campaign=campaign, enterprise=enterprise).steward


def test_a_new_steward_takes_over_the_targets_of_running_and_upcoming_campaigns(cast):
    running = make_campaign(cast)
    upcoming = make_campaign(cast, starts_ago=-10, ends_in=40)
    ended = make_campaign(cast, starts_ago=40, ends_in=5)
    for campaign in (running, upcoming, ended):
        services.add_target_pairs(
            campaign,
            [(cast.ent_a1.pk, cast.steward_a.pk), (cast.ent_a2.pk, cast.steward_a2.pk)],
            by=cast.dispatcher_a,
            source="test",
        )
    today = services.today()
    services.update_campaign(
        ended,
        by=cast.dispatcher_a,
        version=ended.version,
        starts_on=today - timedelta(days=40),
        ends_on=today - timedelta(days=1),
    )
    enterprises.assign_steward(cast.ent_a1, cast.steward_a2, reason="调岗", by=cast.dispatcher_a)
    assert _steward(running, cast.ent_a1) == cast.steward_a2
    assert _steward(upcoming, cast.ent_a1) == cast.steward_a2
    assert _steward(ended, cast.ent_a1) == cast.steward_a  # history as it was
    assert _steward(running, cast.ent_a2) == cast.steward_a2  # another enterprise: untouched


def test_a_target_given_to_someone_else_on_purpose_stays_with_them(cast):
    campaign = make_campaign(cast)
    services.add_target_pairs(
        campaign, [(cast.ent_a1.pk, cast.steward_a.pk)], by=cast.dispatcher_a, source="test"
    )
    target = CampaignTarget.objects.get(campaign=campaign)
    services.reassign_targets(campaign, to=cast.steward_a2, by=cast.dispatcher_a, target_ids=[target.pk])
    steward_a3 = make_user("steward_a3", cast.centre_a, Role.STEWARD)
    enterprises.assign_steward(cast.ent_a1, steward_a3, reason="调岗", by=cast.dispatcher_a)
    assert _steward(campaign, cast.ent_a1) == cast.steward_a2


def test_a_handover_moves_every_target_of_the_leaving_steward(cast):
    campaign = make_campaign(cast)
    services.add_target_pairs(
        campaign, [(cast.ent_a1.pk, cast.steward_a.pk)], by=cast.dispatcher_a, source="test"
    )
    enterprises.handover(cast.steward_a, to=cast.steward_a2, reason="离岗交接", by=cast.dispatcher_a)
    assert _steward(campaign, cast.ent_a1) == cast.steward_a2


def test_a_target_without_steward_gets_the_enterprises_first_steward(cast):
    campaign = make_campaign(cast)
    Enterprise.objects.filter(pk=cast.ent_a1.pk).update(steward=None)
    services.add_target_pairs(campaign, [(cast.ent_a1.pk, None)], by=cast.dispatcher_a, source="test")
    enterprise = Enterprise.objects.get(pk=cast.ent_a1.pk)
    StewardAssignment.objects.filter(enterprise=enterprise).update(ended_at=enterprise.created_at)
    enterprises.assign_steward(enterprise, cast.steward_a2, reason="首次分配", by=cast.dispatcher_a)
    assert _steward(campaign, cast.ent_a1) == cast.steward_a2
