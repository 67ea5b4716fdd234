from django.contrib.auth import views as auth_views
from django.urls import path

from members import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("email/", views.email_change, name="email-change"),
    path("email/verify/<str:token>/", views.verify_email, name="verify-email"),
    # Django's own password views, in our templates (templates/registration/).
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("join/", views.join, name="join"),
    path("memberships/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("memberships/<int:pk>/reinstate/", views.reinstate, name="reinstate"),
    path("wallet/top-up/", views.top_up, name="top-up"),
    path("wallet/payback/", views.payback, name="payback"),
]
