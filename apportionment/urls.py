from django.urls import path

from apportionment import views

urlpatterns = [
    path("charges/", views.my_charges, name="my-charges"),
]
