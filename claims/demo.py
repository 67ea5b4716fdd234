"""Demo claims in several review states."""

import datetime as dt

from django.utils import timezone

from claims.models import Claim
from pools.models import Condition

# person name, condition code, status, diagnosed days ago
DEMO_CLAIMS = [
    ("Carol Zhang", "CI001", "approved", 40),
    ("Bob Li", "CI002", "public_notice", 25),
    ("Alice Wang", "CI005", "investigating", 10),
    ("Lily Wang", "CI024", "submitted", 5),
]


def seed(ctx):
    users, memberships = ctx["users"], ctx["memberships"]
    now = timezone.now()
    ctx["claims"] = []
    for name, code, status, days_ago in DEMO_CLAIMS:
        membership = memberships[name]
        claim = Claim.objects.filter(membership=membership).first()
        if claim is None:
            person = membership.person
            diagnosed = (now - dt.timedelta(days=days_ago)).date()
            reviewed = status in ("investigating", "approved", "public_notice")
            decided = status in ("approved", "public_notice")
            claim = Claim.objects.create(
                membership=membership,
                pool=membership.pool,
                claimant=person.account,
                condition=Condition.objects.get(code=code),
                cause="illness",
                diagnosis_date=diagnosed,
                hospital="Demo People's Hospital",
                province=person.province,
                description="Demo claim.",
                status=status,
                submitted_at=now - dt.timedelta(days=days_ago - 1),
                investigator=users["investigator"] if reviewed else None,
                adjudicator=users["adjudicator"] if decided else None,
                investigation_report="Diagnosis confirmed by hospital records." if decided else "",
                payout_cents=(
                    membership.pool.payout_for_age(person.age_on(diagnosed)) if decided else None
                ),
                approved_at=now - dt.timedelta(days=3) if status == "approved" else None,
                notice_ends_at=now + dt.timedelta(days=2) if status == "public_notice" else None,
            )
        ctx["claims"].append(claim)
