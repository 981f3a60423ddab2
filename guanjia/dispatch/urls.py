from guanjia.dispatch.views import desk, routing_page, search

app_name = "dispatch"

# Each part of the app declares its own pages.
urlpatterns = [
    *desk.urlpatterns,
    *routing_page.urlpatterns,
    *search.urlpatterns,
]
