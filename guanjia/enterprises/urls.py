from django.urls import path

from guanjia.enterprises import import_views, views

app_name = "enterprises"

urlpatterns = [
    path("enterprises/", views.enterprise_list, name="list"),
    path("enterprises/mine/", views.my_enterprises, name="mine"),
    path("enterprises/new/", views.enterprise_create, name="create"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="detail"),
    path("enterprises/<int:pk>/edit/", views.enterprise_edit, name="edit"),
    path("enterprises/<int:pk>/contacts/", views.contact_add, name="contact-add"),
    path("enterprises/<int:pk>/steward/", views.steward_assign, name="steward-assign"),
    path("enterprises/<int:pk>/invite/", views.invite, name="invite"),
    path("enterprises/export/", import_views.enterprise_export, name="export"),
    path("enterprises/import/", import_views.import_upload, name="import"),
    path("enterprises/import/template/", import_views.import_template, name="import-template"),
    path("enterprises/import/<int:pk>/", import_views.import_job, name="import-job"),
    path("enterprises/import/<int:pk>/progress/", import_views.import_progress, name="import-progress"),
    path("enterprises/import/<int:pk>/confirm/", import_views.import_confirm, name="import-confirm"),
    path("stewards/", views.stewards, name="stewards"),
    path("stewards/handover/", views.steward_handover, name="handover"),
    path("portal/", views.portal, name="portal"),
    path("invite/<str:token>/", views.accept_invite, name="accept-invite"),
]
