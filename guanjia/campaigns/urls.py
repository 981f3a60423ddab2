from django.urls import path

from guanjia.campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", views.campaign_list, name="list"),
    path("campaigns/new/", views.campaign_new, name="new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("campaigns/<int:pk>/problems/", views.campaign_problems, name="problems"),
    path("campaigns/<int:pk>/targets/add/", views.targets_add, name="targets-add"),
    path("campaigns/<int:pk>/targets/import/", views.targets_import, name="targets-import"),
    path("campaigns/<int:pk>/targets/assign/", views.targets_assign, name="targets-assign"),
]
