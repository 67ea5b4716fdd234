"""The demo tells the truth: every journey named in the logins is walkable on the first visit,
its history was made by the real engine and workflow, and a second run changes nothing."""

import datetime as dt

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from apportionment import figures
from apportionment.models import Batch, Charge
from claims import services as claim_services
from claims.models import Claim, ClaimEvent, Evidence, EvidenceRecord
from members.models import Membership
from members.services import top_up_wallet
from mutualaid.management.commands import seed_demo
from notice.models import Juror, Panel
from pools.models import Condition, Pool

pytestmark = pytest.mark.django_db

COUNTED = [
    "auth.User",
    "members.Person",
    "members.Membership",
    "members.MembershipStatusChange",
    "claims.Claim",
    "claims.ClaimEvent",
    "claims.Evidence",
    "claims.EvidenceRecord",
    "claims.Notification",
    "apportionment.Batch",
    "apportionment.Charge",
    "ledger.Transaction",
    "ledger.Entry",
    "notice.Panel",
    "notice.Vote",
]


@pytest.fixture
def demo(capsys, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast
    call_command("seed_demo", members=200)
    return capsys.readouterr().out


def user(username):
    return get_user_model().objects.get(username=username)


def claim_of(username):
    return Claim.objects.get(claimant__username=username)


def test_every_login_names_its_journey(demo):
    for username, _group, _superuser, journey in seed_demo.DEMO_USERS:
        line = next(line for line in demo.splitlines() if line.strip().startswith(username + " "))
        assert journey in line
    assert "henry" in seed_demo.LOGINS_FILE.read_text()


def test_a_second_run_changes_nothing(demo, capsys):
    before = {label: apps.get_model(label).objects.count() for label in COUNTED}
    call_command("seed_demo", members=200)
    assert "nothing changed" in capsys.readouterr().out
    assert before == {label: apps.get_model(label).objects.count() for label in COUNTED}


def test_alice_can_file_a_claim_today(demo):
    membership = Membership.objects.get(
        person__account__username="alice", person__relationship="self"
    )
    claim = Claim(
        membership=membership,
        pool=membership.pool,
        claimant=membership.person.account,
        condition=Condition.objects.get(code="CI002"),
        cause=Claim.Cause.ILLNESS,
        diagnosis_date=timezone.now().date() - dt.timedelta(days=2),
    )
    assert claim_services.submission_problems(claim) == []


def test_the_review_journeys_start_where_their_logins_say(demo):
    assert claim_of("carol").status == Claim.Status.SUBMITTED
    assert claim_of("dave").status == Claim.Status.INVESTIGATED
    erin = claim_of("erin")
    assert erin.status == Claim.Status.PUBLIC_NOTICE
    assert timezone.now() < erin.notice_ends_at <= timezone.now() + dt.timedelta(hours=1)
    frank = claim_of("frank")
    assert frank.status == Claim.Status.APPROVED and not hasattr(frank, "batch_claim")


def test_the_operators_next_batch_charges_every_adult_participant(demo):
    preview = figures.preview(Pool.objects.get(slug="critical-illness-adults"))
    assert preview["claims"] == 1 and preview["amount_cents"] > 0
    assert preview["participants"] > 150 and preview["base_share_cents"] > 0


def test_grace_has_a_vote_to_cast(demo):
    juror = Juror.objects.get(user__username="grace", panel__status=Panel.Status.VOTING)
    assert not hasattr(juror, "vote")
    assert juror.panel.accepts_votes(timezone.now())
    assert juror.panel.claim.status == Claim.Status.PANEL_REVIEW


def test_henry_tops_up_and_is_active_again(demo):
    henry = user("henry")
    membership = Membership.objects.get(person__account=henry)
    assert membership.status == Membership.Status.SUSPENDED
    owed = Charge.objects.filter(account=henry, outstanding=True)
    assert owed.exists()
    top_up_wallet(henry, sum(owed.values_list("amount_cents", flat=True)))
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    assert not Charge.objects.filter(account=henry, outstanding=True).exists()


def test_the_history_was_made_by_the_engine_and_the_workflow(demo):
    batches = Batch.objects.exclude(status=Batch.Status.EMPTY)
    assert batches.count() >= 12
    assert not batches.exclude(status=Batch.Status.PAID_OUT).exists()
    for batch in batches:
        assert batch.cutoff_at < timezone.now() - dt.timedelta(days=7)
        charges = Charge.objects.of_batch(batch.pk)
        assert charges.count() == batch.participants
    # Every claim's status is where its own recorded transitions took it; no stray drafts.
    assert not Claim.objects.filter(status=Claim.Status.DRAFT).exists()
    for claim in Claim.objects.all():
        assert claim.events.order_by("at", "pk").last().to_status == claim.status, claim.pk
        assert claim.events.filter(action="submit").exists()
    assert Claim.objects.filter(status=Claim.Status.PAID).count() >= 12
    # Evidence went through the upload service: one evidence-log record per file.
    assert Evidence.objects.count() == Claim.objects.count()
    assert EvidenceRecord.objects.exclude(file_sha256="").count() == Evidence.objects.count()
    assert ClaimEvent.objects.filter(action="panel_approve").exists()  # a panel decided one
    call_command("verify_evidence")


def test_verify_my_charge_is_offered_only_to_a_member_with_a_charge(demo, client):
    from reports.services import store_root

    batch = Batch.objects.filter(status=Batch.Status.PAID_OUT, pool__slug="critical-illness-adults")
    batch = batch.order_by("-pk").first()
    store_root(batch.pk)
    client.force_login(user("alice"))
    assert "Verify my charge" in client.get(f"/reports/{batch.pk}/").content.decode()
    client.force_login(user("operator"))  # staff: no membership, no charge
    assert "Verify my charge" not in client.get(f"/reports/{batch.pk}/").content.decode()


def test_the_site_has_a_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    assert 'rel="icon"' in client.get("/").content.decode()
