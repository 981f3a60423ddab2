from guanjia.knowledge.views import entries

app_name = "knowledge"

# Each part of the app declares its own pages.
urlpatterns = [
    *entries.urlpatterns,
]
