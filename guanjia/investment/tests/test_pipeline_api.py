# ruff: noqa: F811 - the book fixture is imported from test_pipeline.py and named by each test
"""The pipeline API: the page's figures as JSON, for promoters and leaders of their zones only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guanjia.investment.models import LeadSource
from guanjia.investment.tests.test_pipeline import book, frozen  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

FUNNEL = "/api/investment/pipeline/funnel/"
TIMES = "/api/investment/pipeline/time-in-stage/"
INVESTMENT = "/api/investment/pipeline/investment/"


def test_the_routes_have_their_names():
    assert reverse("investment-pipeline-funnel") == FUNNEL
    assert reverse("investment-pipeline-time-in-stage") == TIMES
    assert reverse("investment-pipeline-investment") == INVESTMENT


def test_funnel(book, login):
    body = login(book.cast.promoter_a).get(FUNNEL, {"year": 2026}).json()
    assert (body["year"], body["zone"], body["chain"], body["source"]) == (2026, None, None, "")
    assert [step["count"] for step in body["leads"]] == [4, 3, 2, 1, 1, 1, 0, 0]
    assert [step["name"] for step in body["leads"]][:4] == ["线索", "接触", "洽谈", "转为项目"]
    assert body["leads"][1]["from_previous"] == {"numerator": 3, "denominator": 4, "value": 0.75}
    assert body["leads"][0]["from_previous"]["value"] == 1.0
    assert [step["count"] for step in body["projects"]] == [2, 2, 2, 1, 0, 0, 0]
    assert [row["name"] for row in body["by_chain"]] == ["新能源", "未关联产业链"]
    assert body["by_chain"][1]["key"] == "none"
    assert [row["key"] for row in body["by_source"]] == ["fund", "referral", "expo"]


def test_funnel_filters(book, login):
    client = login(book.cast.leader_city)
    assert client.get(FUNNEL, {"year": 2026}).json()["leads"][0]["count"] == 5
    zone_a = client.get(FUNNEL, {"year": 2026, "zone": book.cast.zone_a.pk}).json()
    assert zone_a["leads"][0]["count"] == 4
    chain = client.get(FUNNEL, {"year": 2026, "chain": book.chain.pk}).json()
    assert chain["leads"][0]["count"] == 3 and chain["chain"] == book.chain.pk
    fund = client.get(FUNNEL, {"year": 2026, "source": LeadSource.FUND}).json()
    assert [step["count"] for step in fund["leads"]][:3] == [1, 1, 0]
    refused = client.get(FUNNEL, {"zone": book.cast.zone_b.pk, "chain": book.chain.pk})
    assert refused.status_code == 400 and "chain" in refused.json()


def test_time_in_stage(book, login):
    body = login(book.cast.leader_a).get(TIMES, {"year": 2026}).json()
    assert body["today"] == "2026-06-15"
    leads = {row["key"]: row for row in body["leads"]}
    assert leads["new"] == {
        "key": "new",
        "name": "新线索",
        "n": 4,
        "still": 1,
        "mean_days": "45.1",
        "median_days": "10.0",
    }
    projects = {row["key"]: row for row in body["projects"]}
    assert (projects["signed"]["mean_days"], projects["signed"]["still"]) == ("58.5", 1)
    assert projects["building"]["mean_days"] is None


def test_investment_by_month_and_quarter(book, login):
    client = login(book.cast.promoter_a)
    months = client.get(INVESTMENT, {"year": 2026}).json()
    assert months["by"] == "month" and len(months["periods"]) == 12
    assert months["periods"][2] == {
        "key": "3",
        "name": "3月",
        "signed": 1,
        "counted": "50000.00",
        "arrived": "1000.00",
    }
    assert months["total"]["counted"] == "60000.00" and months["total"]["arrived"] == "3000.00"
    assert months["chains"] == [
        {
            "key": str(book.chain.pk),
            "name": "新能源",
            "signed": 2,
            "counted": "60000.00",
            "arrived": "3000.00",
        }
    ]
    quarters = client.get(INVESTMENT, {"year": 2026, "by": "quarter"}).json()
    assert [q["signed"] for q in quarters["periods"]] == [1, 1, 0, 0]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"year": "abc"}, "year"),
        ({"year": 1999}, "year"),
        ({"by": "week"}, "by"),
        ({"source": "nowhere"}, "source"),
        ({"zone": "x"}, "zone"),
    ],
)
def test_bad_parameters_are_named(book, login, query, field):
    response = login(book.cast.promoter_a).get(INVESTMENT, query)
    assert response.status_code == 400
    assert field in response.json()


def test_other_zone_sees_its_own_numbers_and_cannot_ask_for_zone_a(book, login, promoter_b):
    client = login(promoter_b)
    assert [step["count"] for step in client.get(FUNNEL, {"year": 2026}).json()["leads"]][:2] == [1, 0]
    assert client.get(INVESTMENT, {"year": 2026}).json()["total"]["counted"] == "7000.00"
    for query in ({"zone": book.cast.zone_a.pk}, {"chain": book.chain.pk}):
        response = client.get(FUNNEL, query)
        assert response.status_code == 400, query
        assert "不在您的范围内" in str(response.json())


@pytest.mark.parametrize("url", [FUNNEL, TIMES, INVESTMENT])
def test_other_roles_are_refused(book, login, client, url):
    for user in (book.cast.steward_a, book.cast.ent_user_a1, book.cast.dispatcher_a, book.cast.sysadmin):
        assert login(user).get(url).status_code == 403, user
    assert client.get(url).status_code in (401, 403)
