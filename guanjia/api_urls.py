"""The REST API's routes: each app registers its viewsets on the one router."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from guanjia.appeals import api as appeals_api
from guanjia.campaigns import api as campaigns_api
from guanjia.capital import api as capital_listings_api
from guanjia.cockpit import api as cockpit_api
from guanjia.cockpit import briefing_api
from guanjia.core import api as core_api
from guanjia.dispatch.api import routing_models as dispatch_routing_models_api
from guanjia.dispatch.api import search as dispatch_search_api
from guanjia.dispatch.api import similar as dispatch_similar_api
from guanjia.dispatch.api import suggestions as dispatch_suggestions_api
from guanjia.enterprises import api as enterprises_api
from guanjia.exchange.api import practices as exchange_practices_api
from guanjia.exchange.api import programme as exchange_programme_api
from guanjia.investment.api import chains as investment_chains_api
from guanjia.investment.api import financing as investment_financing_api
from guanjia.investment.api import leads as investment_leads_api
from guanjia.investment.api import pipeline as investment_pipeline_api
from guanjia.investment.api import projects as investment_projects_api
from guanjia.investment.api import targets as investment_targets_api
from guanjia.knowledge.api import entries as knowledge_entries_api
from guanjia.policies.api import delivery as policies_delivery_api
from guanjia.policies.api import library as policies_library_api
from guanjia.policies.api import matching as policies_matching_api
from guanjia.talent.api import resources as talent_api
from guanjia.visits import api as visits_api
from guanjia.windows.api import appointments as windows_appointments_api
from guanjia.windows.api import rosters as windows_rosters_api
from guanjia.windows.api import units as windows_units_api

router = DefaultRouter()
core_api.register(router)
enterprises_api.register(router)
appeals_api.register(router)
visits_api.register(router)
campaigns_api.register(router)
cockpit_api.register(router)
briefing_api.register(router)
INVESTMENT_APIS = (
    investment_chains_api,
    investment_targets_api,
    investment_leads_api,
    investment_projects_api,
    investment_financing_api,
    investment_pipeline_api,
)
# The apps split by part: each part module registers its viewsets and lists its extra routes.
PART_APIS = (
    *INVESTMENT_APIS,
    policies_library_api,
    policies_matching_api,
    policies_delivery_api,
    exchange_programme_api,
    exchange_practices_api,
    windows_units_api,
    windows_rosters_api,
    windows_appointments_api,
    knowledge_entries_api,
    dispatch_suggestions_api,
    dispatch_similar_api,
    dispatch_search_api,
    dispatch_routing_models_api,
    talent_api,
    capital_listings_api,
)
for part_api in PART_APIS:
    part_api.register(router)

urlpatterns = [
    path("", include(router.urls)),
    *enterprises_api.extra_urlpatterns,
    *appeals_api.extra_urlpatterns,
    *visits_api.extra_urlpatterns,
    *campaigns_api.extra_urlpatterns,
    *(pattern for part_api in PART_APIS for pattern in part_api.extra_urlpatterns),
]
