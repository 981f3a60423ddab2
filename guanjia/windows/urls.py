from guanjia.windows.views import appointments, rosters, units

app_name = "windows"

# Each part of the app declares its own pages.
urlpatterns = [
    *units.urlpatterns,
    *rosters.urlpatterns,
    *appointments.urlpatterns,
]
