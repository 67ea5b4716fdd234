"""A member files a claim with a file in chromium; an investigator and an adjudicator take it to
public notice in the admin (SPEC 4)."""

import datetime as dt

import pytest
from django.utils import timezone

from claims.models import Claim, Evidence
from tests.browser import browser_page
from tests.claims.helpers import PNG, log_in, staff, take_action
from tests.factories import MembershipFactory


@pytest.mark.browser
def test_member_files_a_claim_and_reviewers_take_it_to_public_notice(
    live_server, transactional_db, tmp_path, monkeypatch
):
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are plain
    # blocking test code (Django's documented switch for such tools).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    membership = MembershipFactory(person__account__username="mei")
    staff("investigator", "investigators")
    staff("adjudicator", "adjudicators")
    scan = tmp_path / "discharge summary.png"
    scan.write_bytes(PNG)
    base = live_server.url

    with browser_page() as page:
        log_in(page, f"{base}/login/", "mei")
        page.goto(f"{base}/claims/new/")
        page.select_option("select[name=membership]", str(membership.pk))
        page.select_option("select[name=condition]", index=1)
        page.select_option("select[name=cause]", "illness")
        diagnosed = timezone.localdate() - dt.timedelta(days=3)
        page.fill("input[name=diagnosis_date]", diagnosed.isoformat())
        page.fill("input[name=hospital]", "First Hospital of Hangzhou")
        page.fill("input[name=province]", "Zhejiang")
        page.set_input_files("input[name=file]", str(scan))
        page.click("button[name=submit]")
        page.wait_for_url("**/claims/*/")
        assert "Submitted" in page.locator("main").inner_text()
        claim = Claim.objects.get(membership=membership)
        assert page.locator("a[href^='/evidence/']").inner_text() == "discharge summary.png"

    with browser_page(viewport={"width": 1280, "height": 900}) as page:
        log_in(page, f"{base}/admin/login/?next=/admin/", "investigator")
        take_action(page, base, claim, "assign")
        assert page.locator("#claim-actions input[name=action][value=report]").count() == 1
        take_action(page, base, claim, "report", "Hospital records confirm the diagnosis.")
        claim.refresh_from_db()
        assert claim.status == Claim.Status.INVESTIGATED
        # four eyes: the investigator has no decision button
        assert page.locator("#claim-actions input[name=action][value=approve]").count() == 0

    with browser_page(viewport={"width": 1280, "height": 900}) as page:
        log_in(page, f"{base}/admin/login/?next=/admin/", "adjudicator")
        page.goto(f"{base}/admin/claims/claim/{claim.pk}/change/")
        assert "discharge summary.png" in page.locator("body").inner_text()
        take_action(page, base, claim, "approve")
        page.goto(f"{base}/notice/")
        board = page.content()
        assert claim.condition.name in board and "First Hospital" not in board

    claim.refresh_from_db()
    assert claim.status == Claim.Status.PUBLIC_NOTICE and claim.payout_cents > 0
    assert [e.action for e in claim.events.all()] == ["submit", "assign", "report", "approve"]
    assert Evidence.objects.get(claim=claim).original_name == "discharge summary.png"
