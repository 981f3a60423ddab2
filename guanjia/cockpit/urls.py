from django.urls import path

from guanjia.cockpit import briefing_views, views

app_name = "cockpit"

urlpatterns: list = []

# The leader's cockpit (views.py): figures, the rows behind each, rankings.
urlpatterns += [
    path("cockpit/", views.cockpit, name="index"),
    path("cockpit/drill/", views.drill_down, name="drill"),
    path("cockpit/rankings/", views.rankings, name="rankings"),
]

# Briefings (briefing_views.py): 周报/月报 as PDF and Excel.
urlpatterns += [
    path("cockpit/briefings/", briefing_views.briefing_list, name="briefings"),
    path("cockpit/briefings/generate/", briefing_views.briefing_generate, name="briefing-generate"),
    path("cockpit/briefings/<int:pk>/pdf/", briefing_views.briefing_pdf, name="briefing-pdf"),
    path("cockpit/briefings/<int:pk>/xlsx/", briefing_views.briefing_xlsx, name="briefing-xlsx"),
]
