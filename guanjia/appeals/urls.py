from django.urls import path

from guanjia.appeals import pages, views

app_name = "appeals"

urlpatterns = [
    path("appeals/categories/", views.categories, name="categories"),
    path("appeals/categories/<int:pk>/", views.categories, name="category-edit"),
    path("appeals/routes/", views.route_set, name="route-set"),
    path("appeals/routes/<int:pk>/remove/", views.route_remove, name="route-remove"),
]

urlpatterns += [
    path("appeals/", pages.appeal_list, name="list"),
    path("appeals/mine/", pages.my_appeals, name="mine"),
    path("appeals/stewarded/", pages.stewarded_appeals, name="stewarded"),
    path("appeals/queue/", pages.queue, name="queue"),
    path("appeals/worklist/", pages.worklist, name="worklist"),
    path("appeals/new/<int:enterprise>/", pages.appeal_submit, name="submit"),
    path("appeals/<int:pk>/", pages.appeal_detail, name="detail"),
    path("appeals/<int:pk>/act/<slug:action>/", pages.appeal_act, name="act"),
]
