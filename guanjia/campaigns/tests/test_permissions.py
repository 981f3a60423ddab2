"""Who may see and change campaigns: the zone's dispatchers and supervisors launch and change them,
leaders read them, a steward sees those where it has targets and only its own targets; an enterprise
user and another zone's staff see nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guanjia.campaigns import services
from guanjia.campaigns.models import Campaign, CampaignTarget
from guanjia.campaigns.tests.helpers import make_campaign
from guanjia.core.errors import Conflict, NotAllowed
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(cast):
    campaign = make_campaign(cast)
    services.add_target_pairs(
        campaign,
        [(cast.ent_a1.pk, cast.steward_a.pk), (cast.ent_a2.pk, cast.steward_a2.pk)],
        by=cast.dispatcher_a,
        source="test",
    )
    return campaign


def _form(cast, **extra):
    today = services.today()
    return {
        "name": "助力解难题",
        "description": "",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
        "zones": [cast.zone_a.pk],
        **extra,
    }


def test_a_steward_cannot_create_a_campaign(cast, login):
    with pytest.raises(NotAllowed):
        make_campaign(cast, by=cast.steward_a)
    client = login(cast.steward_a)
    assert client.get("/campaigns/new/").status_code == 403
    assert client.post("/campaigns/new/", _form(cast)).status_code == 403
    response = client.post("/api/campaigns/", _form(cast), content_type="application/json")
    assert response.status_code == 403
    assert (
        login(cast.leader_a).post("/api/campaigns/", _form(cast), content_type="application/json").status_code
        == 403
    )
    assert not Campaign.objects.exists()


def test_a_dispatcher_creates_a_campaign_of_its_zone_only(cast, login):
    client = login(cast.dispatcher_a)
    response = client.post("/campaigns/new/", _form(cast))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert list(campaign.zones.all()) == [cast.zone_a]
    assert AuditRecord.objects.filter(action="campaign.create", object_id=str(campaign.pk)).exists()
    # Another zone is not offered and not accepted.
    response = client.post("/campaigns/new/", _form(cast, zones=[cast.zone_b.pk]))
    assert response.status_code == 200 and response.context["form"].errors
    response = client.post(
        "/api/campaigns/", _form(cast, zones=[cast.zone_b.pk]), content_type="application/json"
    )
    assert response.status_code == 400
    with pytest.raises(NotAllowed):
        make_campaign(cast, zones=[cast.zone_b])
    # Without zones, the API takes the caller's.
    body = {key: value for key, value in _form(cast).items() if key != "zones"}
    response = client.post("/api/campaigns/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["zones"] == [cast.zone_a.pk]
    assert response.json()["status"] == "running"
    assert Campaign.objects.count() == 2


def test_nobody_sees_another_zones_campaign(cast, campaign, login):
    for user in (cast.steward_b, make_user("dispatcher_b", cast.centre_b, Role.DISPATCHER)):
        client = login(user)
        assert client.get(f"/campaigns/{campaign.pk}/").status_code == 404
        assert client.get(f"/api/campaigns/{campaign.pk}/").status_code == 404
        assert client.get(f"/api/campaigns/{campaign.pk}/coverage/").status_code == 404
        assert campaign.name not in client.get("/campaigns/").content.decode()
        assert client.get("/api/campaigns/").json()["count"] == 0
    # An enterprise user sees nothing at all; neither does a promoter or a handler.
    for user in (cast.ent_user_a1, cast.promoter_a, cast.handler_a):
        client = login(user)
        assert client.get("/campaigns/").status_code == 403
        assert client.get(f"/campaigns/{campaign.pk}/").status_code == 403
        assert client.get(f"/api/campaigns/{campaign.pk}/").status_code == 403


def test_a_steward_sees_campaigns_where_it_has_targets_and_only_its_own_targets(cast, campaign, login):
    other = make_campaign(cast)  # no target of steward_a's
    client = login(cast.steward_a)
    assert [row["id"] for row in client.get("/api/campaigns/").json()["results"]] == [campaign.pk]
    assert client.get(f"/campaigns/{other.pk}/").status_code == 404
    page = client.get(f"/campaigns/{campaign.pk}/")
    assert page.status_code == 200
    assert [t.enterprise_id for t in page.context["page"]] == [cast.ent_a1.pk]
    html = page.content.decode()
    assert cast.ent_a2.name not in html
    assert f'href="/visits/new/{cast.ent_a1.pk}/"' in html  # not yet visited: 登记走访
    assert 'data-testid="coverage-by-steward"' not in html  # the overseers' tables
    listed = client.get(f"/api/campaigns/{campaign.pk}/targets/").json()
    assert [row["enterprise"] for row in listed["results"]] == [cast.ent_a1.pk]
    # A leader of the zone reads everything and changes nothing.
    client = login(cast.leader_a)
    page = client.get(f"/campaigns/{campaign.pk}/")
    assert {t.enterprise_id for t in page.context["page"]} == {cast.ent_a1.pk, cast.ent_a2.pk}
    assert client.get(f"/campaigns/{campaign.pk}/edit/").status_code == 403
    assert client.get(f"/campaigns/{campaign.pk}/targets/add/").status_code == 403
    # The city's leader sees every zone's campaigns.
    assert login(cast.leader_city).get(f"/api/campaigns/{campaign.pk}/").status_code == 200


def test_reassigning_targets(cast, campaign, login):
    target = CampaignTarget.objects.get(campaign=campaign, enterprise=cast.ent_a1)
    body = {"to_steward": cast.steward_a2.pk, "targets": [target.pk]}
    url = f"/api/campaigns/{campaign.pk}/targets/assign/"
    # A steward and a leader may not; another zone's dispatcher does not see the campaign.
    assert login(cast.steward_a).post(url, body, content_type="application/json").status_code == 403
    assert login(cast.leader_a).post(url, body, content_type="application/json").status_code == 403
    dispatcher_b = make_user("dispatcher_b", cast.centre_b, Role.DISPATCHER)
    assert login(dispatcher_b).post(url, body, content_type="application/json").status_code == 404
    with pytest.raises(NotAllowed):
        services.reassign_targets(campaign, to=cast.steward_a2, by=cast.steward_a, target_ids=[target.pk])
    # Not to a steward of another zone.
    response = login(cast.dispatcher_a).post(
        url, {"to_steward": cast.steward_b.pk, "targets": [target.pk]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "不是其中 1 家目标企业所在园区的服务管家" in response.json()["detail"]
    target.refresh_from_db()
    assert target.steward == cast.steward_a
    # The zone's dispatcher may.
    response = login(cast.dispatcher_a).post(url, body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json() == {"moved": 1}
    target.refresh_from_db()
    assert target.steward == cast.steward_a2
    assert AuditRecord.objects.filter(action="campaign.reassign_targets").count() == 1
    # All of one steward's targets, from the page.
    response = login(cast.supervisor_a).post(
        f"/campaigns/{campaign.pk}/targets/assign/",
        {"to": cast.steward_a.pk, "from_steward": cast.steward_a2.pk},
        follow=True,
    )
    assert "已改派 2 家目标企业" in response.content.decode()
    assert set(CampaignTarget.objects.filter(campaign=campaign).values_list("steward_id", flat=True)) == {
        cast.steward_a.pk
    }


def test_an_ended_campaigns_targets_are_kept_as_they_were(cast, campaign):
    today = services.today()
    services.update_campaign(
        campaign,
        by=cast.dispatcher_a,
        version=campaign.version,
        starts_on=today - timedelta(days=40),
        ends_on=today - timedelta(days=1),
    )
    with pytest.raises(services.ServiceError, match="已结束"):
        services.add_targets_by_criteria(campaign, services.TargetCriteria(), by=cast.dispatcher_a)


def test_a_stale_edit_loses(cast, campaign, login):
    stale = Campaign.objects.get(pk=campaign.pk)
    services.update_campaign(
        campaign, by=cast.supervisor_a, version=campaign.version, name="新春访万企（第一批）"
    )
    with pytest.raises(Conflict):
        services.update_campaign(stale, by=cast.dispatcher_a, version=stale.version, name="覆盖")
    response = login(cast.dispatcher_a).patch(
        f"/api/campaigns/{campaign.pk}/",
        {"name": "覆盖", "version": stale.version},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert Campaign.objects.get(pk=campaign.pk).name == "新春访万企（第一批）"
    fresh = Campaign.objects.get(pk=campaign.pk)
    response = login(cast.dispatcher_a).patch(
        f"/api/campaigns/{campaign.pk}/",
        {"description": "第二轮", "version": fresh.version},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["description"] == "第二轮"


def test_a_zone_with_targets_cannot_be_dropped(cast, campaign):
    city_dispatcher = make_user("city_dispatcher", cast.city, Role.DISPATCHER)
    services.update_campaign(
        campaign, by=city_dispatcher, version=campaign.version, zones=[cast.zone_a, cast.zone_b]
    )
    campaign = Campaign.objects.get(pk=campaign.pk)
    # zone A's own dispatcher no longer manages a campaign that also covers zone B.
    assert not services.can_manage(cast.dispatcher_a, campaign)
    with pytest.raises(services.ServiceError, match="已有目标企业"):
        services.update_campaign(campaign, by=city_dispatcher, version=campaign.version, zones=[cast.zone_b])
