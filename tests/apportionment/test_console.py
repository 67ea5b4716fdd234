"""The operators' console, the apportion command, the API and the member's charges page."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from apportionment import publishing
from apportionment.models import Batch
from tests.apportionment.helpers import approved_claim, bulk_members, run_all_chunks
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def operator(db):
    user = UserFactory(username="op", is_staff=True)
    user.groups.add(Group.objects.get(name="operators"))
    return user


def test_admin_preview_writes_nothing_then_run_starts_the_batch(client, operator, pool):
    bulk_members(pool, 9)
    approved_claim(pool, 1_000)
    client.force_login(operator)
    url = reverse("admin:apportionment_batch_apportion", args=[pool.pk])
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "10.80" in body and "batch-preview" in body  # A = 1,000 + 8 % fee, in yuan
    assert not Batch.objects.exists()
    response = client.post(url)
    batch = Batch.objects.get()
    assert response.status_code == 302 and batch.status == Batch.Status.PUBLISHING
    detail = client.get(reverse("admin:apportionment_batch_change", args=[batch.pk]))
    assert b"batch-progress" in detail.content
    progress = client.get(reverse("admin:apportionment_batch_progress", args=[batch.pk])).json()
    assert progress == {"status": "publishing", "done": 0, "total": 1, "message": ""}


def test_a_member_cannot_reach_the_console(client, pool):
    member = MembershipFactory(pool=pool).person.account
    client.force_login(member)
    response = client.get(reverse("admin:apportionment_batch_apportion", args=[pool.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_apportion_command_dry_run_and_errors(pool, capsys):
    bulk_members(pool, 4)
    approved_claim(pool, 500)
    call_command("apportion", pool.slug, "--dry-run")
    out = capsys.readouterr().out
    assert "participants N" in out and "5.40" in out  # A = 540 cents
    assert not Batch.objects.exists()
    with pytest.raises(CommandError, match="No pool 'nope'"):
        call_command("apportion", "nope")


def test_batches_api_is_public_and_charges_api_is_private(client, pool):
    bulk_members(pool, 3)
    claimant = approved_claim(pool, 400).claimant
    batch = run_all_chunks(publishing.start_batch(pool))
    listing = client.get("/api/v1/batches/")
    assert listing.status_code == 200
    assert listing.json()["results"][0]["amount_cents"] == batch.amount_cents
    assert client.get("/api/v1/charges/").status_code == 401
    client.force_login(claimant)
    mine = client.get("/api/v1/charges/").json()["results"]
    assert len(mine) == 1 and mine[0]["batch"] == batch.pk
    other = MembershipFactory(pool=pool).person.account
    client.force_login(other)
    assert client.get("/api/v1/charges/").json()["results"] == []


def test_my_charges_page_lists_cases_with_pinned_queries(
    client, pool, django_assert_max_num_queries
):
    claim = approved_claim(pool, 400)
    for _ in range(3):
        MembershipFactory(pool=pool, person__account=claim.claimant, person__relationship="child")
    run_all_chunks(publishing.start_batch(pool))
    client.force_login(claim.claimant)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("my-charges"))
    body = response.content.decode()
    assert body.count("<tr>") == 5  # header + 4 charges
    assert claim.condition.name in body


def test_the_preview_offers_a_run_only_when_there_is_something_to_charge(client, operator, pool):
    bulk_members(pool, 9)
    client.force_login(operator)
    url = reverse("admin:apportionment_batch_apportion", args=[pool.pk])
    empty = client.get(url).content.decode()
    assert "Run this batch" not in empty and 'id="nothing-to-charge"' in empty
    approved_claim(pool, 1_000_000)
    ready = client.get(url).content.decode()
    assert "Run this batch" in ready and "nothing-to-charge" not in ready
    assert "¥10,800.00" in ready  # A = ¥10,000 + 8 % fee, with the yuan sign and separators


def test_the_console_speaks_in_batches_and_yuan(client, operator, pool):
    bulk_members(pool, 9)
    approved_claim(pool, 1_000_000)
    client.force_login(operator)
    client.post(reverse("admin:apportionment_batch_apportion", args=[pool.pk]))
    batch = Batch.objects.get()
    run_all_chunks(batch)
    listing = client.get(reverse("admin:apportionment_batch_changelist")).content.decode()
    assert "Batches" in listing and "Batchs" not in listing
    detail = client.get(reverse("admin:apportionment_batch_change", args=[batch.pk]))
    body = detail.content.decode()
    assert "¥10,000.00" in body and "10000000" not in body  # payouts P, never raw cents
    assert 'value="Collect now"' in body and 'class="button default"' in body
    response = client.post(
        reverse("admin:apportionment_batch_act", args=[batch.pk]),
        {"action": "collect"},
        follow=True,
    )
    assert f"Batch #{batch.pk}: collection started." in response.content.decode()
