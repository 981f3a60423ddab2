from django.urls import path

from guanjia.appeals import views

app_name = "appeals"

urlpatterns = [
    path("appeals/categories/", views.categories, name="categories"),
    path("appeals/categories/<int:pk>/", views.categories, name="category-edit"),
    path("appeals/routes/", views.route_set, name="route-set"),
    path("appeals/routes/<int:pk>/remove/", views.route_remove, name="route-remove"),
]
