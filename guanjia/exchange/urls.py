from guanjia.exchange.views import practices, programme

app_name = "exchange"

# Each part of the app declares its own pages.
urlpatterns = [
    *programme.urlpatterns,
    *practices.urlpatterns,
]
