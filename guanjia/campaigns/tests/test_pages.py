"""The campaign pages: the list's queries do not grow with its rows; the forms on a phone-sized page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanjia.campaigns import services
from guanjia.campaigns.tests.helpers import make_campaign
from guanjia.enterprises.uscc import with_check_digit
from guanjia.testing import make_enterprise

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_list_costs_the_same_queries_for_one_campaign_or_many(cast, login):
    client = login(cast.dispatcher_a)
    campaign = make_campaign(cast)
    services.add_target_pairs(
        campaign, [(cast.ent_a1.pk, cast.steward_a.pk)], by=cast.dispatcher_a, source="test"
    )
    one = _queries(client, "/campaigns/")
    for _ in range(5):
        services.add_target_pairs(
            make_campaign(cast), [(cast.ent_a2.pk, cast.steward_a2.pk)], by=cast.dispatcher_a, source="test"
        )
    assert _queries(client, "/campaigns/") == one
    html = client.get("/campaigns/").content.decode()
    assert html.count("（0/1）") == 6


def test_the_detail_costs_the_same_queries_for_few_or_many_targets(cast, login):
    client = login(cast.supervisor_a)
    campaign = make_campaign(cast)
    services.add_target_pairs(
        campaign, [(cast.ent_a1.pk, cast.steward_a.pk)], by=cast.dispatcher_a, source="test"
    )
    few = _queries(client, f"/campaigns/{campaign.pk}/")
    more = [
        make_enterprise(with_check_digit(f"91320591MA00006{n:02d}"), f"企业{n}", cast.zone_a, cast.steward_a2)
        for n in range(8)
    ]
    services.add_target_pairs(
        campaign, [(e.pk, e.steward_id) for e in more], by=cast.dispatcher_a, source="test"
    )
    assert _queries(client, f"/campaigns/{campaign.pk}/") == few


def test_the_forms_render_for_their_keepers(cast, login):
    campaign = make_campaign(cast)
    client = login(cast.dispatcher_a)
    for path in (
        "new/",
        f"{campaign.pk}/edit/",
        f"{campaign.pk}/targets/add/",
        f"{campaign.pk}/targets/import/",
        f"{campaign.pk}/targets/assign/",
    ):
        response = client.get(f"/campaigns/{path}")
        assert response.status_code == 200, path
        assert 'name="csrfmiddlewaretoken"' in response.content.decode()
