from django.urls import path

from claims import views

urlpatterns = [
    path("claims/new/", views.claim_new, name="claim-new"),
    path("claims/<int:pk>/", views.claim_detail, name="claim-detail"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence-file"),
]
