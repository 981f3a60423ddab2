from guanjia.investment.views import chains, financing, leads, pipeline, projects, targets

app_name = "investment"

# Each part of the app declares its own pages; all live under /investment/ (and /portal/financing/).
urlpatterns = [
    *chains.urlpatterns,
    *targets.urlpatterns,
    *leads.urlpatterns,
    *projects.urlpatterns,
    *financing.urlpatterns,
    *pipeline.urlpatterns,
]
