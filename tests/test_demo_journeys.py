"""The demo's journeys, walked in chromium as the named users on the first visit: alice files a
claim with a file, grace casts her vote, henry tops up and is active again, the investigator
and the adjudicator move carol's and dave's claims, and the operator previews and runs the
next batch, which charges every participant."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from apportionment.models import Batch, Charge
from claims.models import Claim
from members.models import Membership
from mutualaid.celery import app
from notice.models import Juror
from tests.browser import browser_page
from tests.claims.helpers import take_action
from tests.conftest import wait_for

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def signed_in(page, base, username):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


@pytest.mark.browser
def test_the_demo_journeys_are_walkable(
    live_server, transactional_db, settings, monkeypatch, tmp_path
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setitem(app.conf, "task_always_eager", True)  # no message left in the broker
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", members=200)
    base = live_server.url
    scan = tmp_path / "discharge.pdf"
    scan.write_bytes(PDF)
    with browser_page() as page:
        # alice files a claim today, with a file.
        signed_in(page, base, "alice")
        page.goto(f"{base}/claims/new/")
        alice = Membership.objects.get(
            person__account__username="alice", person__relationship="self"
        )
        page.select_option("select[name=membership]", str(alice.pk))
        page.select_option("select[name=condition]", index=2)
        page.select_option("select[name=cause]", "illness")
        page.fill(
            "input[name=diagnosis_date]", (timezone.localdate() - dt.timedelta(days=2)).isoformat()
        )
        page.fill("input[name=hospital]", "Zhejiang Provincial People's Hospital")
        page.fill("input[name=province]", "Zhejiang")
        page.set_input_files("input[name=file]", str(scan))
        page.click("button[name=submit]")
        page.wait_for_url("**/claims/*/")
        claim = Claim.objects.get(membership=alice)
        assert claim.status == Claim.Status.SUBMITTED and claim.evidence.count() == 1

        # grace casts her vote.
        juror = Juror.objects.get(user__username="grace", vote__isnull=True)
        signed_in(page, base, "grace")
        page.goto(f"{base}/panel/{juror.panel_id}/")
        page.check("#vote-form input[value=approve]")
        page.fill("#vote-form textarea[name=reason]", "The records support the diagnosis.")
        page.click("#vote-form button[type=submit]")
        page.wait_for_load_state()
        assert Juror.objects.get(pk=juror.pk).vote.choice == "approve"

        # henry tops up and his membership is active again.
        henry = Membership.objects.get(person__account__username="henry")
        owed = sum(
            Charge.objects.filter(membership=henry, outstanding=True).values_list(
                "amount_cents", flat=True
            )
        )
        signed_in(page, base, "henry")
        page.goto(f"{base}/wallet/top-up/")
        page.fill("input[name=amount]", f"{owed / 100:.2f}")
        page.click("form.card button[type=submit]")
        page.wait_for_load_state()
        henry.refresh_from_db()
        assert henry.status == Membership.Status.ACTIVE

        # the investigator takes carol's claim and files the report; the adjudicator approves
        # dave's for public notice.
        carol, dave = (Claim.objects.get(claimant__username=u) for u in ("carol", "dave"))
        signed_in(page, base, "investigator")
        take_action(page, base, carol, "assign")
        take_action(page, base, carol, "report", "Hospital records confirm the diagnosis.")
        assert Claim.objects.get(pk=carol.pk).status == Claim.Status.INVESTIGATED
        signed_in(page, base, "adjudicator")
        take_action(page, base, dave, "approve")
        assert Claim.objects.get(pk=dave.pk).status == Claim.Status.PUBLIC_NOTICE

        # the operator previews and runs the adults' next batch: frank's case.
        signed_in(page, base, "operator")
        page.goto(f"{base}/admin/apportionment/batch/")
        page.click("text=Preview batch: Critical illness, adults")
        assert page.locator("#batch-preview").count() == 1
        page.click("input[type=submit][value='Run this batch']")
        page.wait_for_load_state()
    batch = Batch.objects.order_by("-pk").first()
    assert batch.pool.slug == "critical-illness-adults" and batch.payouts_cents > 0
    wait_for(lambda: Batch.objects.get(pk=batch.pk).status != Batch.Status.PUBLISHING, 60)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PUBLISHED
    assert Charge.objects.of_batch(batch.pk).count() == batch.participants > 150
