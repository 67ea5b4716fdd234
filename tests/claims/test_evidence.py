import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from claims import evidence_log, services, workflow
from claims.models import Evidence, EvidenceRecord
from tests.claims.helpers import PDF, draft
from tests.factories import MembershipFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(claim, name, data):
    return services.upload_evidence(claim, claim.claimant, SimpleUploadedFile(name, data))


def stored_files():
    root = Path(settings.EVIDENCE_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.django_db
def test_pdf_is_stored_privately_and_logged():
    claim = draft()
    evidence = upload(claim, "report.pdf", PDF)
    assert evidence.content_type == "application/pdf" and len(stored_files()) == 1
    record = EvidenceRecord.objects.get(kind="evidence.upload")
    assert record.file_sha256 == evidence.sha256 and evidence_log.head_hash() == record.hash
    assert not str(settings.EVIDENCE_ROOT).startswith(str(settings.STATIC_ROOT))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name,data,message",
    [
        ("scan.pdf", PNG, "content is image/png"),
        ("big.pdf", PDF + b"0" * (10 * 1024 * 1024 + 1 - len(PDF)), "at most 10 MB"),
        ("notes.txt", b"hello", "Only PDF, JPEG and PNG"),
    ],
)
def test_refused_uploads_store_nothing(name, data, message):
    claim = draft()
    with pytest.raises(Exception, match=message):
        upload(claim, name, data)
    assert not Evidence.objects.exists() and not stored_files()
    assert not EvidenceRecord.objects.exists()


@pytest.mark.django_db
def test_path_traversal_name_is_sanitised():
    claim = draft()
    evidence = upload(claim, "../../etc/passwd.png", PNG)
    assert evidence.original_name == "passwd.png"
    assert all(Path(settings.EVIDENCE_ROOT) in p.parents for p in stored_files())


@pytest.mark.django_db
def test_only_the_claimant_and_reviewers_fetch_evidence(client, people):  # noqa: F811
    claim = draft()
    evidence = upload(claim, "x.png", PNG)
    url = f"/evidence/{evidence.pk}/"
    other = draft().claimant
    client.force_login(other)
    assert client.get(url).status_code == 404
    client.force_login(claim.claimant)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    client.force_login(people["inv"])
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 302


@pytest.mark.django_db
def test_verify_evidence_passes_then_names_a_changed_file(capsys):
    claim = draft()
    workflow.perform(claim, "submit", user=claim.claimant)
    evidence = upload(claim, "x.png", PNG)
    call_command("verify_evidence")
    assert "evidence log OK: 2 records" in capsys.readouterr().out
    path = Path(settings.EVIDENCE_ROOT) / evidence.path
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="record #2: the file .* was changed"):
        call_command("verify_evidence")


@pytest.mark.django_db
def test_log_rows_cannot_be_updated_and_a_forced_change_is_caught():
    claim = draft()
    workflow.perform(claim, "submit", user=claim.claimant)
    upload(claim, "x.png", PNG)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        EvidenceRecord.objects.filter(seq=1).update(kind="forged")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE claims_evidencerecord DISABLE TRIGGER ALL")
        cursor.execute("UPDATE claims_evidencerecord SET kind = 'forged' WHERE seq = 1")
        cursor.execute("ALTER TABLE claims_evidencerecord ENABLE TRIGGER ALL")
    with pytest.raises(CommandError, match="record #1"):
        call_command("verify_evidence", stdout=io.StringIO())


@pytest.mark.django_db
def test_api_creates_submits_and_uploads(client):
    membership = MembershipFactory()
    client.force_login(membership.person.account)
    response = client.post(
        "/api/v1/claims/",
        {
            "membership": membership.pk,
            "condition": membership.pool.conditions.first().code,
            "cause": "illness",
            "diagnosis_date": "2026-10-01",
            "hospital": "H",
            "province": "Zhejiang",
            "description": "",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    claim_id = response.json()["id"]
    assert response.json()["status"] == "submitted"
    uploaded = client.post(
        f"/api/v1/claims/{claim_id}/evidence/", {"file": SimpleUploadedFile("a.pdf", PDF)}
    )
    assert uploaded.status_code == 200 and uploaded.json()[0]["content_type"] == "application/pdf"
    refused = client.post(
        f"/api/v1/claims/{claim_id}/evidence/", {"file": SimpleUploadedFile("a.pdf", PNG)}
    )
    assert refused.status_code == 400 and "content is image/png" in refused.json()["detail"]


@pytest.mark.django_db
def test_admin_shows_evidence_history_and_only_allowed_actions(client, people):  # noqa: F811
    claim = draft()
    workflow.perform(claim, "submit", user=claim.claimant)
    upload(claim, "scan.png", PNG)
    client.force_login(people["inv"])
    page = client.get(f"/admin/claims/claim/{claim.pk}/change/").content.decode()
    assert "scan.png" in page and 'value="assign"' in page and 'value="approve"' not in page
    client.post(f"/admin/claims/claim/{claim.pk}/transition/", {"action": "assign"})
    client.force_login(people["adj"])
    page = client.get(f"/admin/claims/claim/{claim.pk}/change/").content.decode()
    assert 'value="assign"' not in page and "submit → submitted" not in page
    assert "Take it → Investigating" in page  # the history, in words
