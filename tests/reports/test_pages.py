import pytest
from django.urls import reverse

from apportionment import publishing
from tests.apportionment.helpers import approved_claim, bulk_members, run_all_chunks


@pytest.fixture
def published(pool):
    bulk_members(pool, 8)
    claim = approved_claim(pool, 5_000)
    first = run_all_chunks(publishing.start_batch(pool))
    approved_claim(pool, 7_000)
    second = run_all_chunks(publishing.start_batch(pool))
    return claim, first, second


def personal_data(claim):
    person = claim.membership.person
    return [person.full_name, person.identity_number, person.identity_number[-8:]]


def test_reports_index_draws_charts_with_pinned_queries(
    client, published, django_assert_max_num_queries
):
    claim, first, second = published
    with django_assert_max_num_queries(8):  # 5 of them: the forecasts and their history
        response = client.get(reverse("reports"))
    body = response.content.decode()
    assert response.status_code == 200
    # Two share bars and one bar of forecast error (the second batch's forecast).
    assert body.count("<rect ") == 3 and '<path d="M' in body
    for secret in personal_data(claim):
        assert secret not in body


def test_report_detail_shows_figures_root_and_anonymized_cases(
    client, published, django_assert_max_num_queries
):
    claim, first, second = published
    with django_assert_max_num_queries(5):
        response = client.get(reverse("report-detail", args=[first.pk]))
    body = response.content.decode()
    assert first.merkle_root in body and claim.condition.name in body
    assert "30-39" in body  # age band of a person born in 1990 (claims.anonymized)
    for secret in personal_data(claim):
        assert secret not in body
    api = client.get(f"/api/v1/batches/{first.pk}/").content.decode()
    assert first.merkle_root in api and '"cases"' in api
    for secret in personal_data(claim):
        assert secret not in api


def test_proof_api_returns_only_the_callers_charges(client, published):
    claim, first, second = published
    assert client.get(f"/api/v1/batches/{first.pk}/proof/").status_code == 401
    client.force_login(claim.claimant)
    data = client.get(f"/api/v1/batches/{first.pk}/proof/").json()
    assert [p["membership_id"] for p in data["proofs"]] == [claim.membership_id]
    assert data["merkle_root"] == first.merkle_root
    download = client.get(reverse("report-proof", args=[first.pk]))
    assert download["Content-Disposition"].startswith("attachment")
