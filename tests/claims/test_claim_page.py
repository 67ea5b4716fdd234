"""The claimant's page: a draft finished later, files added while the claim is reviewed."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from claims import workflow
from claims.models import Claim
from tests.claims.helpers import PDF, draft, to_investigated


def form_data(claim, **changes):
    return {
        "form": "edit",
        "membership": claim.membership_id,
        "condition": claim.condition_id,
        "cause": claim.cause,
        "diagnosis_date": claim.diagnosis_date.isoformat(),
        "hospital": claim.hospital,
        "province": claim.province,
        "description": claim.description,
        **changes,
    }


def test_a_draft_is_edited_later_then_submitted(client, people):  # noqa: F811
    claim = draft()
    client.force_login(claim.claimant)
    url = reverse("claim-detail", args=[claim.pk])
    assert 'id="draft"' in client.get(url).content.decode()

    day = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    response = client.post(url, form_data(claim, hospital="Second Hospital", diagnosis_date=day))
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.hospital == "Second Hospital" and claim.diagnosis_date.isoformat() == day

    bad = client.post(url, form_data(claim, diagnosis_date="not a date"))
    assert bad.status_code == 200 and "Enter a valid date" in bad.content.decode()

    client.post(url, {"form": "transition", "action": "submit"})
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    client.post(url, form_data(claim, hospital="Changed after submit"))
    claim.refresh_from_db()
    assert claim.hospital == "Second Hospital"
    assert 'id="draft"' not in client.get(url).content.decode()


def test_files_are_added_while_reviewed_and_refused_once_decided(client, people):  # noqa: F811
    claim = draft()
    claim = workflow.perform(claim, "submit", user=claim.claimant)
    client.force_login(claim.claimant)
    url = reverse("claim-detail", args=[claim.pk])
    workflow.perform(claim, "assign", user=people["inv"])
    claim = workflow.perform(
        claim, "request_info", user=people["inv"], note="Please send the scan."
    )
    page = client.get(url).content.decode()
    assert "Please send the scan." in page and 'id="upload"' in page

    wrong = SimpleUploadedFile("scan.pdf", b"not a pdf at all")
    response = client.post(url, {"form": "upload", "file": wrong})
    assert response.status_code == 200 and "Only PDF, JPEG and PNG" in response.content.decode()
    assert claim.evidence.count() == 0

    response = client.post(url, {"form": "upload", "file": SimpleUploadedFile("scan.pdf", PDF)})
    assert response.status_code == 302 and claim.evidence.count() == 1

    claim = workflow.perform(claim, "resubmit", user=claim.claimant)
    claim = workflow.perform(claim, "report", user=people["inv"], note="ok")
    workflow.perform(claim, "reject", user=people["adj"], note="Not covered.")
    assert 'id="upload"' not in client.get(url).content.decode()
    late = client.post(url, {"form": "upload", "file": SimpleUploadedFile("late.pdf", PDF)})
    assert "only while the claim is prepared or investigated" in late.content.decode()
    assert claim.evidence.count() == 1


def test_a_rejected_claimant_appeals_once_on_the_claim_page(client, people):  # noqa: F811
    from notice.models import Appeal

    claim = to_investigated(draft(), people)
    claim = workflow.perform(claim, "reject", user=people["adj"], note="Not enough evidence.")
    client.force_login(claim.claimant)
    url = reverse("claim-detail", args=[claim.pk])
    assert 'id="appeal"' in client.get(url).content.decode()

    client.post(url, {"form": "appeal", "reason": "The hospital report was attached late."})
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PANEL_REVIEW
    assert Appeal.objects.get(claim=claim).reason.startswith("The hospital report")
    assert 'id="appeal"' not in client.get(url).content.decode()


def test_no_appeal_after_fourteen_days(client, people):  # noqa: F811
    claim = to_investigated(draft(), people)
    claim = workflow.perform(claim, "reject", user=people["adj"], note="Not enough evidence.")
    claim.events.filter(to_status="rejected").update(at=timezone.now() - dt.timedelta(days=15))
    client.force_login(claim.claimant)
    url = reverse("claim-detail", args=[claim.pk])
    assert 'id="appeal"' not in client.get(url).content.decode()
    response = client.post(url, {"form": "appeal", "reason": "Late but sure."}, follow=True)
    assert "The appeal period has ended." in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.REJECTED
