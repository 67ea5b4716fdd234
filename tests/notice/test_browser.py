"""Headless chromium: a member objects on the board, nine jurors vote, the claim ends as voted."""

import datetime

import pytest

from claims.models import Claim
from notice import services
from tests.browser import browser_page
from tests.factories import ClaimFactory, MembershipFactory, UserFactory

PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's
OBJECTION = "The hospital named in this case does not treat this condition."


def account():
    return MembershipFactory(person__account=UserFactory()).person.account


def log_in(page, base, user, next_url=""):
    page.context.clear_cookies()
    page.goto(f"{base}/login/?next={next_url}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.card button[type=submit]")


@pytest.mark.browser
@pytest.mark.parametrize("approvals,outcome", [(4, "rejected"), (7, "approved")])
def test_objection_on_the_board_then_nine_jurors_decide(
    live_server, transactional_db, approvals, outcome
):
    base = live_server.url
    claim = ClaimFactory(investigation_report="Confirmed by pathology report.")
    objector = account()
    jurors = []
    for _ in range(9):
        juror = MembershipFactory(person__account=UserFactory(), pool=claim.pool).person.account
        services.volunteer_for_panels(juror, rules_accepted=True)
        jurors.append(juror)

    # Playwright's sync API runs an event loop: the database is used only between sessions.
    with browser_page() as page:
        page.goto(f"{base}/notice/")
        page.click(f"#case-{claim.pk} >> text=Read the record or object")
        page.click("text=Sign in to object")
        page.fill("#id_username", objector.username)
        page.fill("#id_password", PASSWORD)
        page.click("form.card button[type=submit]")
        page.fill("#id_reason", OBJECTION)
        page.click("text=Object to this case")
        assert "Your objection was filed" in page.content()
        assert OBJECTION in page.locator("#objections").inner_text()

    services.close_ended_notices(now=claim.notice_ends_at + datetime.timedelta(minutes=1))
    panel = claim.panels.get()
    assert sorted(panel.jurors.values_list("user_id", flat=True)) == sorted(j.pk for j in jurors)

    with browser_page() as page:
        for i, juror in enumerate(jurors):
            log_in(page, base, juror, "/dashboard/")
            assert f"drawn for the panel on case #{claim.pk}" in page.content()
            page.click(f"#jury >> text=Panel on case #{claim.pk}")
            choice = "approve" if i < approvals else "reject"
            page.check(f"input[name=choice][value={choice}]")
            page.fill("#id_reason", f"Juror reason number {i}: I read the case and the objection.")
            page.click("text=Cast my vote")
            assert "Your vote was recorded" in page.content()
        page.goto(f"{base}/notice/{claim.pk}/")
        record = page.locator(f"#panel-{panel.pk}").inner_text()
        decision = page.locator("#decision").inner_text()
        html = page.content()

    claim.refresh_from_db()
    assert claim.status == outcome
    assert str(Claim.Status(outcome).label) in decision
    assert f"Votes: {approvals} approve, {9 - approvals} reject, of 9 jurors." in record
    assert "Juror reason number 8" in record
    assert not [j.username for j in jurors if j.username in html]
