from django.urls import path

from reports import views

urlpatterns = [
    path("reports/", views.index, name="reports"),
    path("reports/<int:pk>/", views.detail, name="report-detail"),
    path("reports/<int:pk>/proof.json", views.proof_download, name="report-proof"),
]
