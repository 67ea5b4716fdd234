"""Demo members: families in several membership states."""

import datetime as dt

from django.utils import timezone

from ledger.services import wallet_for
from members.identity import make_identity_number
from members.models import Membership, MembershipStatusChange, Person

# account, relationship, name, sex, birth date, province, pool slug, status, joined days ago
DEMO_PEOPLE = [
    (
        "alice",
        "self",
        "Alice Wang",
        "F",
        dt.date(1990, 3, 14),
        "Zhejiang",
        "critical-illness-adults",
        "active",
        400,
    ),
    (
        "alice",
        "child",
        "Lily Wang",
        "F",
        dt.date(2018, 6, 1),
        "Zhejiang",
        "critical-illness-children",
        "active",
        380,
    ),
    (
        "alice",
        "parent",
        "Wang Jianguo",
        "M",
        dt.date(1958, 9, 20),
        "Zhejiang",
        "cancer-seniors",
        "waiting",
        20,
    ),
    (
        "bob",
        "self",
        "Bob Li",
        "M",
        dt.date(1984, 11, 2),
        "Sichuan",
        "critical-illness-adults",
        "active",
        500,
    ),
    (
        "bob",
        "spouse",
        "Mei Li",
        "F",
        dt.date(1986, 1, 23),
        "Sichuan",
        "critical-illness-adults",
        "suspended",
        300,
    ),
    (
        "carol",
        "self",
        "Carol Zhang",
        "F",
        dt.date(1979, 7, 7),
        "Guangdong",
        "critical-illness-adults",
        "active",
        700,
    ),
    (
        "dave",
        "self",
        "Dave Chen",
        "M",
        dt.date(1995, 2, 28),
        "Hubei",
        "critical-illness-adults",
        "withdrawn",
        200,
    ),
]
REGIONS = {"Zhejiang": "330102", "Sichuan": "510104", "Guangdong": "440103", "Hubei": "420102"}


def seed(ctx):
    users, pools = ctx["users"], ctx["pools"]
    ctx["memberships"] = {}
    now = timezone.now()
    for seq, row in enumerate(DEMO_PEOPLE, start=1):
        username, rel, name, sex, born, province, slug, status, days_ago = row
        account = users[username]
        wallet_for(account)
        person, _ = Person.objects.get_or_create(
            identity_number=make_identity_number(REGIONS[province], born, seq),
            defaults=dict(
                account=account,
                relationship=rel,
                full_name=name,
                sex=sex,
                birth_date=born,
                province=province,
            ),
        )
        pool = pools[slug]
        membership = Membership.objects.filter(person=person, pool=pool).first()
        if membership is None:
            joined = now - dt.timedelta(days=days_ago)
            waiting_ends = (joined + dt.timedelta(days=pool.waiting_days)).date()
            membership = Membership.objects.create(
                person=person,
                pool=pool,
                status=status,
                joined_at=joined,
                waiting_ends_on=waiting_ends,
                status_changed_at=now,
                active_since=waiting_ends if status != "waiting" else None,
                suspended_since=now.date() if status == "suspended" else None,
                ended_at=None if status in Membership.OPEN_STATUSES else now,
            )
            MembershipStatusChange.objects.create(
                membership=membership,
                from_status="",
                to_status="waiting",
                cause="joined (demo)",
                actor=account,
                at=joined,
            )
            if status != "waiting":
                MembershipStatusChange.objects.create(
                    membership=membership,
                    from_status="waiting",
                    to_status=status,
                    cause="demo data",
                    at=now,
                )
        ctx["memberships"][name] = membership
