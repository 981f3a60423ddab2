from guanjia.capital import views

app_name = "capital"

urlpatterns = [*views.urlpatterns]
