"""The REST API's routes: each app registers its viewsets on the one router."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from guanjia.appeals import api as appeals_api
from guanjia.campaigns import api as campaigns_api
from guanjia.cockpit import api as cockpit_api
from guanjia.cockpit import briefing_api
from guanjia.core import api as core_api
from guanjia.enterprises import api as enterprises_api
from guanjia.investment.api import chains as investment_chains_api
from guanjia.investment.api import financing as investment_financing_api
from guanjia.investment.api import leads as investment_leads_api
from guanjia.investment.api import pipeline as investment_pipeline_api
from guanjia.investment.api import projects as investment_projects_api
from guanjia.investment.api import targets as investment_targets_api
from guanjia.visits import api as visits_api

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
for investment_api in INVESTMENT_APIS:
    investment_api.register(router)

urlpatterns = [
    path("", include(router.urls)),
    *enterprises_api.extra_urlpatterns,
    *appeals_api.extra_urlpatterns,
    *visits_api.extra_urlpatterns,
    *campaigns_api.extra_urlpatterns,
    *(pattern for investment_api in INVESTMENT_APIS for pattern in investment_api.extra_urlpatterns),
]
