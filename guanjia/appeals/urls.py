from django.urls import path

from guanjia.appeals import approvals, board, pages, views

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
    path("appeals/board/", board.overdue_board, name="board"),
    path("appeals/new/<int:enterprise>/", pages.appeal_submit, name="submit"),
    path("appeals/<int:pk>/", pages.appeal_detail, name="detail"),
    path("appeals/<int:pk>/act/<slug:action>/", pages.appeal_act, name="act"),
    path("appeals/<int:pk>/attachments/", pages.appeal_attach, name="attach"),
    path("appeals/<int:pk>/attachments/<int:att_pk>/", pages.attachment_download, name="attachment"),
]

# The steps decided on one row of an appeal, and where supervisors and leaders find them.
urlpatterns += [
    path("appeals/approvals/", approvals.approvals, name="approvals"),
    path(
        "appeals/<int:pk>/extensions/<int:extension>/decide/",
        approvals.extension_decide,
        name="extension-decide",
    ),
    path("appeals/<int:pk>/reviews/<int:review>/decide/", approvals.review_decide, name="review-decide"),
    path("appeals/<int:pk>/ratings/<int:rating>/dispute/", approvals.rating_dispute, name="rating-dispute"),
]
