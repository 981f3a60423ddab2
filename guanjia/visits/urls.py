from django.urls import path

from guanjia.visits import views

app_name = "visits"

urlpatterns = [
    path("visits/", views.visit_calendar, name="calendar"),
    path("visits/new/<int:enterprise>/", views.visit_new, name="new"),
    path("visits/plan/<int:enterprise>/", views.visit_plan, name="plan"),
    path("visits/<int:pk>/", views.visit_detail, name="detail"),
    path("visits/<int:pk>/cancel/", views.plan_cancel, name="cancel_plan"),
    path("visits/photos/<int:pk>/", views.photo, name="photo"),
    path("visits/schedule/<int:enterprise>/", views.schedule_edit, name="schedule"),
    path("visits/overdue/", views.overdue, name="overdue"),
    path("visits/overdue/list/", views.overdue_list, name="overdue_list"),
]
