from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from members.languages import remember_at_login

        user_logged_in.connect(remember_at_login, dispatch_uid="members.language")
