from django.urls import path

from notice import views

urlpatterns = [
    path("notice/", views.board, name="notice"),
    path("notice/<int:pk>/", views.record, name="notice-record"),
    path("panel/volunteer/", views.volunteer, name="jury-volunteer"),
    path("panel/<int:pk>/", views.panel, name="panel"),
]
