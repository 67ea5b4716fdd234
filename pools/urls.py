from django.urls import path

from pools import views

urlpatterns = [
    path("", views.home, name="home"),
    path("pools/<slug:slug>/rules/", views.pool_rules, name="pool-rules"),
]
