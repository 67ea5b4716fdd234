"""The claimant is told in-app at once, and by email through a real Celery worker after commit."""

from claims import workflow
from claims.models import Notification
from tests.claims.helpers import draft, staff
from tests.conftest import wait_for


def test_state_changes_reach_the_claimant_in_app_and_by_email(mail_dir, celery_worker_process):
    celery_worker_process()
    investigator = staff("inv", "investigators")
    claim = draft()
    claim.claimant.email = "claimant@example.org"
    claim.claimant.save()
    claim = workflow.perform(claim, "submit", user=claim.claimant)
    receipt = Notification.objects.get()  # their own action: only a receipt
    assert "Submitted" in receipt.text
    workflow.perform(claim, "assign", user=investigator)

    note = Notification.objects.exclude(pk=receipt.pk).get(recipient=claim.claimant)
    assert f"Claim #{claim.pk}" in note.text and "Investigating" in note.text
    wait_for(lambda: list(mail_dir.iterdir()), timeout=30, message="the email file")
    wait_for(
        lambda: Notification.objects.filter(pk=note.pk, emailed_at__isnull=False).exists(),
        message="the notification marked as emailed",
    )
    sent = "".join(p.read_text() for p in mail_dir.iterdir())
    assert "claimant@example.org" in sent and f"Claim #{claim.pk}" in sent
