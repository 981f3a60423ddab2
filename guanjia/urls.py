from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from guanjia.core import api as core_api
from guanjia.core import views as core_views

urlpatterns = [
    path("login/", core_views.LoginView.as_view(), name="login"),
    path("login/totp/", core_views.login_totp, name="login-totp"),
    path("account/password/", core_views.account_password, name="account-password"),
    path("account/totp/", core_views.account_totp, name="account-totp"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("system/", include("guanjia.core.urls")),
    path("", include("guanjia.enterprises.urls")),
    path("", include("guanjia.appeals.urls")),
    path("", include("guanjia.visits.urls")),
    path("", include("guanjia.campaigns.urls")),
    path("", include("guanjia.cockpit.urls")),
    path("", include("guanjia.investment.urls")),
    path("", include("guanjia.policies.urls")),
    path("", include("guanjia.exchange.urls")),
    path("", include("guanjia.windows.urls")),
    path("", include("guanjia.knowledge.urls")),
    path("", include("guanjia.dispatch.urls")),
    path("", include("guanjia.talent.urls")),
    path("", include("guanjia.capital.urls")),
    path("api/", include("guanjia.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's set-up script from a URL of its own, not inline:
    # the page's Content-Security-Policy allows no inline script (guanjia.core.http).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    # Last among the API's routes: any other /api/…/ path is a JSON 404. Only paths ending in "/",
    # so that CommonMiddleware still redirects /api/appeals/1 to /api/appeals/1/.
    re_path(r"^api/[\s\S]*/$", core_api.api_not_found),
    path("admin/", admin.site.urls),
]
