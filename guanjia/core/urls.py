from django.urls import path

from guanjia.core import views

app_name = "core"

urlpatterns = [
    path("units/", views.units, name="units"),
    path("units/<int:pk>/", views.units, name="unit-edit"),
    path("users/", views.users, name="users"),
    path("users/<int:pk>/active/", views.user_set_active, name="user-active"),
    path("roles/", views.roles, name="roles"),
    path("roles/<int:pk>/revoke/", views.role_revoke, name="role-revoke"),
    path("roles/<int:pk>/unlock/", views.user_unlock, name="user-unlock"),
    path("security/", views.security_policy, name="security"),
    path("security/<int:pk>/totp-reset/", views.totp_reset, name="totp-reset"),
    path("audit/", views.audit_log, name="audit"),
    path("audit/export/", views.audit_export, name="audit-export"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/remove/", views.calendar_day_remove, name="calendar-day-remove"),
    path("calendar/declare/", views.calendar_year_declare, name="calendar-year-declare"),
    path("webhooks/", views.robots, name="robots"),
    path("webhooks/<int:pk>/", views.robots, name="robot-edit"),
    path("webhooks/<int:pk>/active/", views.robot_active, name="robot-active"),
    path("webhooks/<int:pk>/delete/", views.robot_delete, name="robot-delete"),
    path("webhooks/<int:pk>/test/", views.robot_test, name="robot-test"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", views.inbox_read, name="inbox-read"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox-read-all"),
]
