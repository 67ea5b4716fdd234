"""Demo data for every role. Idempotent: a second run changes nothing.

Passwords are random, printed once when a user is created, and kept in var/demo-logins.txt
(git-ignored) so `bin/run` can show them again on this machine.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

import apportionment.demo
import claims.demo
import members.demo
import pools.demo

# username, staff group (None for members), superuser
DEMO_USERS = [
    ("admin", None, True),
    ("investigator", "investigators", False),
    ("investigator2", "investigators", False),
    ("adjudicator", "adjudicators", False),
    ("operator", "operators", False),
    ("alice", None, False),
    ("bob", None, False),
    ("carol", None, False),
    ("dave", None, False),
]
LOGINS_FILE = settings.VAR_DIR / "demo-logins.txt"


class Command(BaseCommand):
    help = "Create demo pools, users for every role, members and claims (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            new_logins = self.create_users()
            ctx = {"users": {u.username: u for u in get_user_model().objects.all()}}
            for app_demo in (pools.demo, members.demo, claims.demo, apportionment.demo):
                app_demo.seed(ctx)
        if new_logins:
            LOGINS_FILE.parent.mkdir(parents=True, exist_ok=True)
            with LOGINS_FILE.open("a", encoding="utf-8") as handle:
                for username, password in new_logins:
                    handle.write(f"{username:<14} {password}\n")
            self.stdout.write("Demo logins (shown once; also kept in var/demo-logins.txt):")
            for username, password in new_logins:
                self.stdout.write(f"  {username:<14} {password}")
        else:
            self.stdout.write("Demo data already present: nothing changed.")

    def create_users(self):
        User = get_user_model()
        created = []
        for username, group_name, superuser in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                continue
            password = secrets.token_urlsafe(9)
            user = User.objects.create_user(
                username=username,
                email=f"{username}@example.org",
                password=password,
                is_staff=bool(group_name) or superuser,
                is_superuser=superuser,
            )
            if group_name:
                user.groups.add(Group.objects.get(name=group_name))
            created.append((username, password))
        return created
