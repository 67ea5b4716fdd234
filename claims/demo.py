"""Demo claims, moved only through the real services: a draft is created and its evidence
uploaded by the claimant (claims.services), then every status change is a workflow transition
made by the user whose role it is (or by the system, for the end of a notice).

`seed` makes the claims of today's journeys; `paid_history_claim` is called by the history of
apportionment.demo for each case a past batch paid.
"""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.utils import timezone

from claims import services, workflow
from claims.models import Claim
from members.models import Membership
from notice import services as notice_services
from notice.models import Panel
from pools.models import Condition
from pools.rules import rules_today

HOSPITALS = {
    "Zhejiang": "The First Affiliated Hospital, Zhejiang University",
    "Sichuan": "West China Hospital, Sichuan University",
    "Guangdong": "Sun Yat-sen University Cancer Center",
    "Hubei": "Tongji Hospital, Wuhan",
}
DEFAULT_HOSPITAL = "Peking Union Medical College Hospital"
REPORT = (
    "Diagnosis confirmed with the hospital's records and the attending physician; "
    "no earlier treatment of this condition found."
)
# A one-page PDF (the upload service checks the type by its content).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def move(claim: Claim, action: str, user=None, note: str = "", **details) -> Claim:
    """One transition of the claim workflow: a person's (perform, checked as a request is) or,
    with no user, the system's (run_system, as its job makes it)."""
    if user is None:
        return workflow.run_system(claim, action, note=note, **details)
    return workflow.perform(claim, action, user=user, note=note, **details)


def file_claim(membership, code: str, diagnosed: dt.date, cause="illness", submit=True) -> Claim:
    """The claimant's draft, a discharge summary uploaded, then (usually) submitted."""
    person = membership.person
    claim = services.create_draft(
        person.account,
        membership,
        condition=Condition.objects.get(code=code),
        cause=cause,
        diagnosis_date=diagnosed,
        hospital=HOSPITALS.get(person.province, DEFAULT_HOSPITAL),
        province=person.province,
        description="Diagnosed after tests in hospital; discharge summary attached.",
    )
    upload = SimpleUploadedFile("discharge-summary.pdf", PDF, content_type="application/pdf")
    services.upload_evidence(claim, person.account, upload)
    if submit:
        claim = move(claim, "submit", person.account)
    return claim


def investigate(claim: Claim, investigator) -> Claim:
    claim = move(claim, "assign", investigator)
    return move(claim, "report", investigator, REPORT)


def to_notice(claim: Claim, users) -> Claim:
    claim = investigate(claim, users["investigator"])
    return move(claim, "approve", users["adjudicator"])


def backdate(claim: Claim, approved: dt.datetime):
    """A past case's timestamps, as if it was approved at `approved` (status untouched)."""
    Claim.objects.filter(pk=claim.pk).update(
        submitted_at=approved - dt.timedelta(days=12),
        approved_at=approved,
        notice_ends_at=approved,
    )


def paid_history_claim(membership, code: str, approved: dt.datetime, users) -> Claim:
    """A case that a past batch paid: filed, investigated, on notice, approved by the end of
    its notice (the system), then dated `approved`."""
    claim = file_claim(membership, code, (approved - dt.timedelta(days=20)).date())
    claim = to_notice(claim, users)
    claim = move(claim, "close_notice")
    backdate(claim, approved)
    return claim


def panel_claim(membership, code, diagnosed, users, objector, jurors, votes=None) -> Panel:
    """A case on notice, objected to by `objector`; the end of its notice (the system's
    job, run at that time) draws the panel; `votes` (choice, reason) are cast by the jurors."""
    claim = to_notice(file_claim(membership, code, diagnosed), users)
    notice_services.file_objection(
        claim,
        objector,
        "The hospital named in the case does not treat this condition; please check the records.",
    )
    notice_services.close_ended_notices(now=Claim.objects.get(pk=claim.pk).notice_ends_at)
    panel = Panel.objects.get(claim=claim)
    for juror, (choice, reason) in zip(jurors, votes or [], strict=False):
        notice_services.cast_vote(panel, juror, choice, reason)
    return panel


def panel_history_claim(membership, code: str, approved: dt.datetime, ctx) -> Claim:
    """A past case objected to on notice, which its panel approved by 7 votes to 2."""
    reasons = [
        ("approve", "The records show the diagnosis and its date; the objection is not borne out.")
    ] * 7 + [("reject", "The case was filed late and the tests are from another hospital.")] * 2
    panel = panel_claim(
        membership,
        code,
        (approved - dt.timedelta(days=25)).date(),
        ctx["users"],
        ctx["users"]["bob"],
        ctx["volunteers"],
        reasons,
    )
    backdate(panel.claim, approved)
    return panel.claim


def volunteers(ctx) -> list:
    """Grace and eight crowd members of the adult pool volunteer for panels (exactly a
    panel's nine, so grace sits on the one drawn today)."""
    from notice.models import JuryVolunteer

    adults = ctx["pools"]["critical-illness-adults"]
    chosen = list(
        JuryVolunteer.objects.filter(accepted_rules_at__isnull=False)
        .select_related("user")
        .order_by("pk")
    )
    chosen = [v.user for v in chosen]
    if not chosen:
        chosen = [ctx["users"]["grace"]]
        while len(chosen) < rules_today(adults).panel_size:
            chosen.append(free_membership(adults, chosen, funded=True).person.account)
        for user in chosen:
            notice_services.volunteer_for_panels(user, rules_accepted=True)
    ctx["volunteers"] = chosen
    return chosen


def free_membership(pool, exclude_accounts=(), covered_by=None, funded=False, born_by=None):
    """An active crowd membership of the pool with no claim, covered for illness by the day
    `covered_by` (`funded`: whose wallet holds ¥200, enough for every share of the history)."""
    covered_by = covered_by or timezone.now().date() - dt.timedelta(days=60)
    memberships = Membership.objects.all()
    if born_by:  # an adult of 40 or more gets the smaller benefit: a smaller share for all
        memberships = (
            memberships.filter(person__birth_date__lte=born_by)
            if pool.slug == "critical-illness-adults"
            else memberships
        )
    if funded:
        memberships = memberships.filter(person__account__ledger_accounts__balance_cents__gte=20000)
    return (
        memberships.filter(
            pool=pool,
            status=Membership.Status.ACTIVE,
            claims__isnull=True,
            waiting_ends_on__lte=covered_by,
            person__account__username__startswith="member-",
        )
        .exclude(person__account__in=exclude_accounts)
        .select_related("person__account", "pool")
        .order_by(F("id") * 7919 % 10007)
        .first()
    )


def seed(ctx):
    """Today's journeys, each a named member's claim in the state the journey starts from."""
    users, memberships = ctx["users"], ctx["memberships"]
    today = ctx["now"].date()
    if Claim.objects.filter(claimant=users["carol"]).exists():
        return
    adults = ctx["pools"]["critical-illness-adults"]
    # A panel voting now: grace and the other volunteers sit on it; grace has not voted yet.
    jurors = [u for u in ctx["volunteers"] if u != users["grace"]]
    votes = [("approve", "The hospital records and the test results match the diagnosis.")] * 3
    panel_claim(
        free_membership(adults, ctx["volunteers"], today - dt.timedelta(days=30)),
        "CI003",
        today - dt.timedelta(days=21),
        users,
        users["bob"],
        jurors,
        votes,
    )
    # Waiting for the investigator (carol), for the adjudicator (dave).
    file_claim(memberships["Carol Zhang"], "CI002", today - dt.timedelta(days=6))
    investigate(
        file_claim(memberships["Dave Chen"], "CI015", today - dt.timedelta(days=15)),
        users["investigator"],
    )
    # Approved and in no batch yet (frank): the operator's next batch charges everyone.
    frank = to_notice(
        file_claim(memberships["Frank Liu"], "CI024", today - dt.timedelta(days=30)), users
    )
    move(frank, "close_notice")
    # On notice, ending within the hour (erin): approved three days ago, less 50 minutes.
    erin = to_notice(
        file_claim(memberships["Erin Zhao"], "CI019", today - dt.timedelta(days=9), "accident"),
        users,
    )
    Claim.objects.filter(pk=erin.pk).update(
        notice_ends_at=timezone.now() + dt.timedelta(minutes=50)
    )
