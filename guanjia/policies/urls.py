from guanjia.policies.views import delivery, library, matching

app_name = "policies"

# Each part of the app declares its own pages.
urlpatterns = [
    *library.urlpatterns,
    *matching.urlpatterns,
    *delivery.urlpatterns,
]
