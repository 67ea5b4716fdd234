from django.apps import AppConfig


class ApportionmentConfig(AppConfig):
    name = "apportionment"
