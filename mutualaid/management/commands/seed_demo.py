"""Demo data for every role, and a journey for each. Idempotent: a second run changes nothing.

Three pools of realistic size (20,000 adults, 5,000 seniors, 8,000 children by default,
inserted set-based), six months of batches run by the real engine, and today's journeys:
claims moved by the real workflow, evidence uploaded through the upload service.

Passwords are random, printed once when a user is created, and kept in var/demo-logins.txt
(git-ignored) so `bin/run` can show them again on this machine.
"""

import secrets
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

import apportionment.demo
import claims.demo
import members.demo
import pools.demo
from apportionment.arrears import daily_retry_and_lapse
from members.services import daily_status_sweep

# username, staff group (None for members), superuser, the journey that starts there
DEMO_USERS = [
    ("admin", None, True, "superuser: every part of the admin"),
    ("investigator", "investigators", False, "takes carol's claim (waiting for an investigator)"),
    ("investigator2", "investigators", False, "a second investigator (four eyes)"),
    ("adjudicator", "adjudicators", False, "decides dave's claim (waiting for an adjudicator)"),
    (
        "operator",
        "operators",
        False,
        "previews and runs the next batch: frank's case, charged to every adult member",
    ),
    ("alice", None, False, "can file a claim today (active, observation period over)"),
    ("bob", None, False, "objected to a case now before a panel"),
    ("carol", None, False, "her claim waits for an investigator"),
    ("dave", None, False, "his claim waits for an adjudicator"),
    ("erin", None, False, "her claim is on public notice, ending within the hour"),
    ("frank", None, False, "his claim is approved, in no batch yet"),
    ("grace", None, False, "a juror with a vote to cast"),
    ("henry", None, False, "an unpaid charge: top up to be active again"),
]
LOGINS_FILE = settings.VAR_DIR / "demo-logins.txt"
DEFAULT_MEMBERS = 20_000


class Command(BaseCommand):
    help = "Create the demo: pools, members, six months of batches and a journey per login."

    def add_arguments(self, parser):
        parser.add_argument(
            "--members",
            type=int,
            default=DEFAULT_MEMBERS,
            help="Adult members (seniors are a quarter of it, children two fifths; default "
            f"{DEFAULT_MEMBERS:,}).",
        )

    def handle(self, *args, **options):
        count, self.verbosity = options["members"], options["verbosity"]
        if count < 100:
            raise CommandError("--members must be at least 100 (a panel needs volunteers).")
        started = time.monotonic()
        with transaction.atomic():
            new_logins = self.create_users()
            if new_logins:  # all or nothing: the users and the data commit together
                self.seed(count)
        if not new_logins:
            self.stdout.write("Demo data already present: nothing changed.")
            return
        LOGINS_FILE.parent.mkdir(parents=True, exist_ok=True)
        journeys = {username: journey for username, _g, _s, journey in DEMO_USERS}
        lines = [f"{u:<14} {p:<14} {journeys[u]}" for u, p in new_logins]
        with LOGINS_FILE.open("a", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in lines)
        self.stdout.write(f"Demo ready in {time.monotonic() - started:.1f} s.")
        self.stdout.write("Demo logins (shown once; also kept in var/demo-logins.txt):")
        for line in lines:
            self.stdout.write(f"  {line}")

    def seed(self, count: int):
        now = timezone.now()
        ctx = {
            "users": {
                u.username: u
                for u in get_user_model().objects.filter(
                    username__in=[row[0] for row in DEMO_USERS]
                )
            },
            "now": now,
            "members": count,
        }
        steps = [
            ("pools", pools.demo.seed),
            ("members", members.demo.seed),
            ("jury volunteers", claims.demo.volunteers),
            ("six months of batches", apportionment.demo.seed),
            ("a withdrawal", members.demo.withdraw_one),
            ("today's claims", claims.demo.seed),
            # The daily jobs, as beat runs them: retry unpaid charges, lapse what ran out.
            (
                "daily jobs",
                lambda ctx: (daily_retry_and_lapse(now.date()), daily_status_sweep(now.date())),
            ),
        ]
        for name, step in steps:
            started = time.monotonic()
            step(ctx)
            if name == "pools":
                ctx["cutoffs"] = apportionment.demo.history_cutoffs(
                    ctx["pools"][apportionment.demo.ADULTS], now
                )
            if self.verbosity > 1:
                self.stdout.write(f"  {name}: {time.monotonic() - started:.1f} s")

    def create_users(self):
        User = get_user_model()
        existing = set(User.objects.values_list("username", flat=True))
        created = []
        for username, group_name, superuser, _journey in DEMO_USERS:
            if username in existing:
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
