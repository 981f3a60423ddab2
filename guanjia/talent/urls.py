from guanjia.talent import views

app_name = "talent"

urlpatterns = views.urlpatterns
