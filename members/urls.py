from django.contrib.auth import views as auth_views
from django.urls import path

from members import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("join/", views.join, name="join"),
    path("memberships/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("memberships/<int:pk>/reinstate/", views.reinstate, name="reinstate"),
    path("wallet/top-up/", views.top_up, name="top-up"),
]
