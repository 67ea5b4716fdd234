"""Issue 15's findings, each reproduced as an attacker would and now refused."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from claims import services
from claims.models import Claim, Evidence
from members import services as member_services
from members.identity import make_identity_number
from members.models import Person
from tests.claims.helpers import draft
from tests.factories import MembershipFactory, PoolFactory, UserFactory

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
PNG_HEADER = b"\x89PNG\r\n\x1a\n"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def png(size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("scan.png", PNG_HEADER + b"\x00" * (size - len(PNG_HEADER)))


def person_details(number: str, born=dt.date(1990, 5, 17)):
    return member_services.PersonDetails(
        relationship="self",
        full_name="Li Hua",
        sex="F",
        birth_date=born,
        identity_number=number,
        province="Zhejiang",
    )


# --- one person, covered once --------------------------------------------------------------------


@pytest.mark.parametrize(
    "disguise",
    [
        lambda n: n[:-2] + n[-2].translate(FULL_WIDTH) + n[-1],  # one full-width digit
        lambda n: n.translate(FULL_WIDTH),  # all full-width
        lambda n: f" {n[:6]} {n[6:14]}\u3000{n[14:]} ",  # spaces, an ideographic space
        lambda n: n.lower(),  # a lower-case check letter
    ],
)
def test_an_identity_number_in_disguise_is_the_same_person(disguise):
    born = dt.date(1990, 5, 17)
    number = next(
        make_identity_number("330102", born, seq)
        for seq in range(1000)
        if make_identity_number("330102", born, seq).endswith("X")
    )
    first = member_services.create_person(UserFactory(), person_details(number, born))
    assert first.identity_number == number
    with pytest.raises(ValidationError, match="already registered"):
        member_services.create_person(UserFactory(), person_details(disguise(number), born))
    assert Person.objects.count() == 1


def test_a_normalized_number_that_is_new_is_stored_in_ascii():
    number = make_identity_number("330102", dt.date(1990, 5, 17), 7)
    person = member_services.create_person(
        UserFactory(), person_details(number.translate(FULL_WIDTH))
    )
    assert person.identity_number == number and person.identity_number.isascii()


@pytest.mark.parametrize("digit", ["٣", "३", "፫"])  # Arabic-Indic, Devanagari, Ethiopic
def test_digits_of_other_scripts_are_refused(digit):
    number = make_identity_number("330102", dt.date(1990, 5, 17), 8)
    disguised = number[:3] + digit + number[4:]
    with pytest.raises(ValidationError, match="17 digits"):
        member_services.create_person(UserFactory(), person_details(disguised))


def test_the_database_refuses_a_number_not_in_stored_form():
    person = member_services.create_person(
        UserFactory(), person_details(make_identity_number("330102", dt.date(1990, 5, 17), 9))
    )
    for bad in (person.identity_number.translate(FULL_WIDTH), person.identity_number[:-1] + "x"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Person.objects.filter(pk=person.pk).update(identity_number=bad)


def test_the_join_form_refuses_the_full_width_twin(client):
    born = dt.date(1990, 5, 17)
    number = make_identity_number("330102", born, 11)
    member_services.create_person(UserFactory(), person_details(number, born))
    pool = PoolFactory()
    client.force_login(UserFactory())
    response = client.post(
        "/join/",
        {
            "pool": pool.pk,
            "relationship": "self",
            "full_name": "Li Hua",
            "sex": "F",
            "birth_date": born.isoformat(),
            "identity_number": number.translate(FULL_WIDTH),
            "province": "Zhejiang",
            "declaration": "on",
            "rules": "on",
        },
    )
    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    assert Person.objects.count() == 1


# --- the diagnosis date ---------------------------------------------------------------------------


def test_a_diagnosis_in_the_future_is_refused_at_draft_and_at_submit():
    membership = MembershipFactory()
    tomorrow = membership.pool.today() + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="in the future"):
        draft(membership, days_ago=(timezone.localdate() - tomorrow).days)
    claim = draft(membership, days_ago=0)
    with pytest.raises(ValidationError, match="in the future"):
        services.update_draft(claim, claim.claimant, diagnosis_date=tomorrow)
    Claim.objects.filter(pk=claim.pk).update(diagnosis_date=tomorrow)  # written around the rule
    claim.refresh_from_db()
    assert any("in the future" in p for p in services.submission_problems(claim))


def test_today_in_the_pools_time_zone_is_not_the_future():
    pool = PoolFactory(time_zone="Pacific/Kiritimati")  # UTC+14: its today is often UTC's tomorrow
    membership = MembershipFactory(pool=pool)
    claim = draft(membership, days_ago=(timezone.localdate() - pool.today()).days)
    assert claim.diagnosis_date == pool.today()
    assert not services.diagnosis_date_problems(membership, claim.diagnosis_date)


def test_a_diagnosis_before_birth_is_refused():
    membership = MembershipFactory(person__birth_date=dt.date(1990, 5, 17))
    days = (timezone.localdate() - dt.date(1990, 5, 16)).days
    with pytest.raises(ValidationError, match="before the person was born"):
        draft(membership, days_ago=days)


def test_the_claim_form_and_the_api_say_why_a_future_date_is_refused(client):
    membership = MembershipFactory()
    client.force_login(membership.person.account)
    future = (membership.pool.today() + dt.timedelta(days=30)).isoformat()
    data = {
        "membership": membership.pk,
        "condition": membership.pool.conditions.first().pk,
        "cause": "illness",
        "diagnosis_date": future,
        "hospital": "Hospital",
        "province": "Zhejiang",
    }
    page = client.post("/claims/new/", data)
    assert page.status_code == 200 and "in the future" in page.content.decode()
    api = client.post(
        "/api/v1/claims/",
        {**data, "condition": membership.pool.conditions.first().code},
        "application/json",
    )
    assert api.status_code == 400 and "in the future" in api.json()["detail"]
    assert not Claim.objects.exists()


# --- evidence limits ------------------------------------------------------------------------------


def test_the_21st_file_of_a_claim_is_refused():
    claim = draft()
    for _ in range(services.MAX_CLAIM_FILES):
        services.upload_evidence(claim, claim.claimant, png(64))
    with pytest.raises(ValidationError, match="at most 20 files"):
        services.upload_evidence(claim, claim.claimant, png(64))
    assert Evidence.objects.filter(claim=claim).count() == 20


def test_50_mb_per_claim_and_not_one_byte_more():
    claim = draft()
    for _ in range(4):
        services.upload_evidence(claim, claim.claimant, png(10 * MB))
    services.upload_evidence(claim, claim.claimant, png(10 * MB - 64))
    with pytest.raises(ValidationError, match="50 MB in all"):
        services.upload_evidence(claim, claim.claimant, png(65))
    services.upload_evidence(claim, claim.claimant, png(64))  # exactly 50 MB
    assert sum(Evidence.objects.filter(claim=claim).values_list("size", flat=True)) == 50 * MB


def test_uploads_are_throttled_per_person_across_claims(client):
    first = draft()
    second = draft(MembershipFactory(person=first.membership.person))
    for i in range(services.UPLOADS_PER_HOUR):
        services.upload_evidence(first if i < 15 else second, first.claimant, png(64))
    client.force_login(first.claimant)
    response = client.post(
        f"/api/v1/claims/{second.pk}/evidence/", {"file": png(64)}, format="multipart"
    )
    assert response.status_code == 429 and "Too many uploads" in response.json()["detail"]
    assert Evidence.objects.count() == services.UPLOADS_PER_HOUR


def test_evidence_is_always_a_download_and_never_sniffed(client):
    claim = draft()
    pdf = SimpleUploadedFile("report.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    evidence = services.upload_evidence(claim, claim.claimant, pdf)
    client.force_login(claim.claimant)
    response = client.get(f"/evidence/{evidence.pk}/")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


# --- a refused submit leaves nothing behind ---------------------------------------------------


def test_a_claim_refused_at_submit_leaves_no_draft_in_the_queue(client):
    """The demo's members each left a stray draft in the investigators' queue (issue 17)."""
    pool = PoolFactory(waiting_days=90)
    recent = MembershipFactory(pool=pool, joined_at=timezone.now() - dt.timedelta(days=30))
    client.force_login(recent.person.account)
    data = {
        "membership": recent.pk,
        "condition": pool.conditions.first().pk,
        "cause": "illness",
        "diagnosis_date": (timezone.localdate() - dt.timedelta(days=5)).isoformat(),
        "hospital": "Hospital",
        "province": "Zhejiang",
    }
    page = client.post("/claims/new/", {**data, "submit": "1"})
    assert page.status_code == 200 and "observation period" in page.content.decode()
    api = client.post(
        "/api/v1/claims/",
        {**data, "condition": pool.conditions.first().code, "submit": True},
        "application/json",
    )
    assert api.status_code == 400 and "observation period" in api.json()["detail"]
    assert not Claim.objects.exists()
    saved = client.post("/claims/new/", data)  # "save as draft" still keeps a draft
    assert saved.status_code == 302 and Claim.objects.get().status == Claim.Status.DRAFT
