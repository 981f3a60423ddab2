"""The matching pages: a benefit item's qualifying and near-miss lists, an enterprise's benefits card,
and the steward's worklist — who sees what, who may push, and query counts that do not grow."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, Scale, Tag, Tier
from guanjia.policies.models import Delivery, PushChannel
from guanjia.policies.tests.helpers import make_item, make_policy
from guanjia.testing import make_enterprise, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(cast):
    """Zone A's item for small and medium enterprises with 100–5000 万元 of capital: ent_a1 (5000,
    small) qualifies, ent_a2 (no capital) misses one condition."""
    return make_item(
        make_policy(cast.market_a, title="高新区科技创新政策"),
        name="研发费用补贴",
        scales=[Scale.SMALL, Scale.MEDIUM],
        capital_min=Decimal("100"),
        capital_max=Decimal("5000"),
    )


def url(item) -> str:
    return reverse("policies:item", args=[item.pk])


def benefits_url(enterprise) -> str:
    return reverse("policies:enterprise-benefits", args=[enterprise.pk])


def more_enterprises(cast, n: int, *, start: int = 0, steward=None) -> list[Enterprise]:
    """n enterprises of zone A: even ones qualify for `item`, odd ones lack a capital (a near miss)."""
    rows = []
    for i in range(start, start + n):
        ent = make_enterprise(
            f"91QRY{i:013d}",
            f"批量企业{i:03d}",
            cast.zone_a,
            steward or cast.steward_a,
            registered_capital=Decimal("1000") if i % 2 == 0 else None,
            founded_on=date(2018, 1, 1),
        )
        rows.append(ent)
    return rows


def query_count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


# --- the benefit item's page --------------------------------------------------------------------------


def test_keeper_sees_the_coverage_with_push_buttons_and_the_near_misses(cast, login, item):
    response = login(cast.handler_a).get(url(item))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="qualifying-row"') == 1
    assert cast.ent_a1.name in html and 'data-testid="push"' in html
    assert 'data-testid="push-all"' in html
    assert reverse("policies:push", args=[item.pk, cast.ent_a1.pk]) in html
    # ent_a2 has no capital: a near miss on 注册资本, with what is asked and what it has
    [near] = response.context["near"]
    assert near["miss"].enterprise == cast.ent_a2 and near["miss"].missed == "capital"
    assert "注册资本未填写" in html and "100–5000 万元（含）" in html
    assert "企业规模" in html and "中型、小型" in html  # the conditions (library.describe)


def test_a_steward_sees_its_own_enterprises_and_pushes_to_them(cast, login, item):
    client = login(cast.steward_a)
    response = client.get(url(item))
    assert [row["enterprise"] for row in response.context["rows"]] == [cast.ent_a1]
    assert response.context["rows"][0]["can_push"]
    assert response.context["near"] == []  # ent_a2 is steward_a2's
    assert 'data-testid="push-all"' not in response.content.decode()
    # the button works and comes back to the page, which then shows the delivery
    pushed = client.post(reverse("policies:push", args=[item.pk, cast.ent_a1.pk]), {"next": url(item)})
    assert pushed.status_code == 302 and pushed["Location"] == url(item)
    after = client.get(url(item))
    assert after.context["rows"][0]["delivery"].status == "pushed"
    assert not after.context["rows"][0]["can_push"]
    assert 'data-testid="delivery-status"' in after.content.decode()


def test_zone_staff_read_the_lists_without_push_buttons(cast, login, item):
    response = login(cast.dispatcher_a).get(url(item))
    assert [row["enterprise"] for row in response.context["rows"]] == [cast.ent_a1]
    assert not response.context["rows"][0]["can_push"]
    assert 'data-testid="push"' not in response.content.decode()
    assert [n["miss"].enterprise for n in response.context["near"]] == [cast.ent_a2]


def test_the_enterprise_user_sees_only_its_own_enterprise(cast, login, item):
    response = login(cast.ent_user_a1).get(url(item))
    assert [row["enterprise"] for row in response.context["rows"]] == [cast.ent_a1]
    assert not response.context["rows"][0]["can_push"]


def test_out_of_coverage_is_404_and_roles_without_the_library_get_403(cast, login, item):
    assert login(cast.steward_b).get(url(item)).status_code == 404
    assert login(cast.outsider).get(url(item)).status_code == 403
    assert login(cast.sysadmin).get(url(item)).status_code == 403
    assert login(cast.handler_a).get(reverse("policies:item", args=[item.pk + 1000])).status_code == 404


def test_a_policy_not_in_force_shows_nobody(cast, login):
    item = make_item(make_policy(cast.market_a, effective_on=date(2099, 1, 1)))
    response = login(cast.handler_a).get(url(item))
    html = response.content.decode()
    assert 'data-testid="not-in-force"' in html
    assert response.context["rows"] == [] and response.context["near"] == []
    assert 'data-testid="push-all"' not in html


def test_the_auto_grant_button_is_for_auto_grant_items(cast, login):
    item = make_item(make_policy(cast.market_a), auto_grant=True)
    html = login(cast.handler_a).get(url(item)).content.decode()
    assert 'data-testid="auto-grant"' in html


def test_item_page_queries_do_not_grow_with_enterprises(cast, login, item):
    client = login(cast.handler_a)
    few = query_count(client, url(item))
    ents = more_enterprises(cast, 40)
    for ent in ents[:6:2]:
        Delivery.objects.create(item=item, enterprise=ent, zone=cast.zone_a, channel=PushChannel.PORTAL)
    many = query_count(client, url(item))
    assert many == few
    response = client.get(url(item) + "?page=2&near=2")
    assert response.status_code == 200 and response.context["page"].number == 1  # 21 qualify: one page
    assert response.context["near_page"].number == 1


# --- the enterprise's benefits card --------------------------------------------------------------------


def test_the_enterprise_page_loads_its_benefits_card(cast, login):
    html = login(cast.steward_a).get(reverse("enterprises:detail", args=[cast.ent_a1.pk])).content.decode()
    assert f'hx-get="{benefits_url(cast.ent_a1)}"' in html and 'hx-trigger="load"' in html


def test_the_benefits_card_lists_what_the_enterprise_qualifies_for(cast, login, item):
    other = make_item(make_policy(cast.market_a), name="规上企业奖励", tiers=[Tier.ABOVE_SCALE])
    response = login(cast.steward_a).get(benefits_url(cast.ent_a1))
    assert response.status_code == 200
    assert [row["item"] for row in response.context["rows"]] == [item]
    html = response.content.decode()
    assert "研发费用补贴" in html and other.name not in html
    assert reverse("policies:item", args=[item.pk]) in html
    assert 'data-testid="push"' in html
    # once pushed, the card shows the delivery's status instead of the button
    Delivery.objects.create(item=item, enterprise=cast.ent_a1, zone=cast.zone_a, channel=PushChannel.STEWARD)
    html = login(cast.steward_a).get(benefits_url(cast.ent_a1)).content.decode()
    assert 'data-testid="push"' not in html and "已推送" in html


def test_the_benefits_card_is_for_who_sees_the_enterprise(cast, login, item):
    assert login(cast.ent_user_a1).get(benefits_url(cast.ent_a1)).status_code == 200
    response = login(cast.dispatcher_a).get(benefits_url(cast.ent_a1))
    assert response.status_code == 200 and not response.context["rows"][0]["can_push"]
    assert login(cast.steward_b).get(benefits_url(cast.ent_a1)).status_code == 404
    assert login(cast.steward_a).get(benefits_url(cast.ent_a2)).status_code == 404  # steward_a2's
    assert login(cast.handler_a).get(benefits_url(cast.ent_a1)).status_code == 403
    assert login(cast.outsider).get(benefits_url(cast.ent_a1)).status_code == 403


def test_the_benefits_card_queries_do_not_grow_with_items(cast, login, item):
    client = login(cast.steward_a)
    few = query_count(client, benefits_url(cast.ent_a1))
    tag = Tag.objects.create(name="高新技术企业")
    cast.ent_a1.tags.add(tag)
    for n in range(12):
        extra = make_item(make_policy(cast.market_a, title=f"政策{n}"), name=f"事项{n}", tags=[tag])
        if n % 3 == 0:
            Delivery.objects.create(
                item=extra, enterprise=cast.ent_a1, zone=cast.zone_a, channel=PushChannel.STEWARD
            )
    many = query_count(client, benefits_url(cast.ent_a1))
    assert many == few
    assert len(client.get(benefits_url(cast.ent_a1)).context["rows"]) == 13


# --- the steward's worklist ----------------------------------------------------------------------------


def test_the_worklist_lists_the_stewards_enterprises_and_benefits_not_yet_pushed(cast, login, item):
    second = make_item(make_policy(cast.market_a), name="小微企业贴息", scales=[Scale.SMALL])
    Delivery.objects.create(
        item=second, enterprise=cast.ent_a1, zone=cast.zone_a, channel=PushChannel.STEWARD
    )
    response = login(cast.steward_a).get(reverse("policies:steward-benefits"))
    assert response.status_code == 200
    assert [(row["enterprise"], row["items"]) for row in response.context["rows"]] == [(cast.ent_a1, [item])]
    html = response.content.decode()
    assert reverse("policies:push", args=[item.pk, cast.ent_a1.pk]) in html
    assert reverse("policies:push", args=[second.pk, cast.ent_a1.pk]) not in html
    # ent_a2 (steward_a2's, small, without a capital) qualifies for the second item only
    rows = login(cast.steward_a2).get(reverse("policies:steward-benefits")).context["rows"]
    assert [(row["enterprise"], row["items"]) for row in rows] == [(cast.ent_a2, [second])]


@pytest.mark.parametrize("who", ["handler_a", "dispatcher_a", "ent_user_a1", "outsider", "sysadmin"])
def test_the_worklist_is_the_stewards_only(cast, login, who):
    assert login(getattr(cast, who)).get(reverse("policies:steward-benefits")).status_code == 403


def test_the_worklist_queries_do_not_grow_with_enterprises_or_items(cast, login, item):
    client = login(cast.steward_a)
    few = query_count(client, reverse("policies:steward-benefits"))
    more_enterprises(cast, 30)
    for n in range(8):
        make_item(make_policy(cast.market_a, title=f"政策{n}"), name=f"事项{n}", tiers=[Tier.GENERAL])
    many = query_count(client, reverse("policies:steward-benefits"))
    assert many == few
    rows = client.get(reverse("policies:steward-benefits")).context["rows"]
    assert len(rows) == 20  # a page
    assert all(len(row["items"]) >= 8 for row in rows)


def test_a_steward_without_enterprises_has_an_empty_worklist(cast, login):
    lonely = make_user("lonely_steward", cast.centre_a, Role.STEWARD)
    response = login(lonely).get(reverse("policies:steward-benefits"))
    assert response.status_code == 200 and response.context["rows"] == []
