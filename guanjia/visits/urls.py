from django.urls import path

from guanjia.visits import views

app_name = "visits"

urlpatterns = [
    path("visits/", views.visit_calendar, name="calendar"),
    path("visits/new/<int:enterprise>/", views.visit_new, name="new"),
    path("visits/<int:pk>/", views.visit_detail, name="detail"),
]
