"""Every id filter of the API (guanjia.core.api_common.IdFilter) answers a value that is no id the
database can hold with a 400 naming the parameter, never a 500 (a decimal, a word, or a number past a
64-bit column, which NumberFilter would hand to the query), and still filters by a valid id."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

# (list endpoint, id filter, the cast member who may list it)
ID_FILTERS = [
    ("/api/capital/listings/", "chain", "leader_a"),
    ("/api/talent-tiers/", "zone", "leader_a"),
    ("/api/talent-needs/", "enterprise", "leader_a"),
    ("/api/talent-applications/", "enterprise", "leader_a"),
    ("/api/talent-services/", "enterprise", "leader_a"),
    ("/api/talent-services/", "application", "leader_a"),
    ("/api/benefit-items/", "policy", "leader_a"),
    ("/api/campaigns/", "zone", "leader_a"),
    ("/api/investment/financing-needs/", "enterprise", "leader_a"),
    ("/api/investment/financing-outcomes/", "fund", "leader_a"),
    ("/api/investment/financing-outcomes/", "need", "leader_a"),
    ("/api/investment/placements/", "chain", "leader_a"),
    ("/api/investment/placements/", "enterprise", "leader_a"),
    ("/api/investment/placements/", "node", "leader_a"),
    ("/api/investment/projects/", "chain", "leader_a"),
    ("/api/investment/projects/", "owner", "leader_a"),
    ("/api/learning-notes/", "secondment", "leader_a"),
    ("/api/liaison-activities/", "secondment", "leader_a"),
    ("/api/policy-deliveries/", "enterprise", "leader_a"),
    ("/api/policy-deliveries/", "item", "leader_a"),
    ("/api/policy-deliveries/", "policy", "leader_a"),
    ("/api/policy-deliveries/", "zone", "leader_a"),
    ("/api/secondments/", "cadre", "leader_a"),
    ("/api/secondments/", "pairing", "leader_a"),
    ("/api/sourced-leads/", "secondment", "promoter_a"),
    ("/api/visits/", "enterprise", "steward_a"),
    ("/api/visits/", "steward", "steward_a"),
    ("/api/appointments/", "unit", "leader_a"),
    ("/api/appointments/", "window", "leader_a"),
    ("/api/knowledge/entries/", "category", "leader_a"),
    ("/api/knowledge/entries/", "department", "leader_a"),
    ("/api/rosters/", "unit", "leader_a"),
    ("/api/routing-models/", "zone", "leader_a"),
    ("/api/service-windows/", "unit", "leader_a"),
    ("/api/staffings/", "unit", "leader_a"),
    ("/api/window-services/", "unit", "leader_a"),
    ("/api/window-services/", "window", "leader_a"),
]
# Id parameters that are not list filters: the one object an endpoint answers about.
ID_PARAMETERS = [("/api/appointment-slots/", "window", "ent_user_a1")]
NOT_IDS = ["-1.8e308", "99999999999999999999", "1.5", "abc", "0", "-3"]
# An id no test object has, so that it shows in the SQL only as the filter's value.
SOME_ID = 987654321


def _ids(case: tuple[str, str, str]) -> str:
    return f"{case[0]}?{case[1]}"


@pytest.mark.parametrize("case", ID_FILTERS + ID_PARAMETERS, ids=_ids)
@pytest.mark.parametrize("value", NOT_IDS)
def test_a_value_that_is_no_id_is_refused_with_400(cast, login, case, value):
    url, param, member = case
    client = login(getattr(cast, member))
    response = client.get(url, {param: value})
    assert response.status_code == 400, response.content
    assert param in response.json()


@pytest.mark.parametrize("case", ID_FILTERS, ids=_ids)
def test_a_valid_id_still_filters(cast, login, case):
    url, param, member = case
    client = login(getattr(cast, member))
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {param: SOME_ID})
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []
    # The id reached the list's query as a condition (the filter is applied, not dropped).
    assert any(str(SOME_ID) in query["sql"] for query in queries.captured_queries)


def test_the_filters_of_the_schema_are_all_listed():
    """Every id filter the schema documents (an integer query parameter bounded like an id) has a row
    above: a new id filter must be held to the same answers."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {
        (path, parameter["name"])
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "query"
        and parameter["schema"].get("type") == "integer"
        and parameter["schema"].get("minimum") == 1
        and parameter["schema"].get("maximum", 0) >= 2**31 - 1
    }
    assert documented == {(url, param) for url, param, _member in ID_FILTERS + ID_PARAMETERS}
