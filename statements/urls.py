from django.urls import path

from statements import views

urlpatterns = [
    path("statement/", views.statement, name="statement"),
    path("statement/csv/", views.statement, {"download": "csv"}, name="statement-csv"),
    path("statement/pdf/", views.statement, {"download": "pdf"}, name="statement-pdf"),
]
