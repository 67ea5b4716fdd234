"""The adjudicator decides, in the claim's admin page, a claim whose panel could not."""

import pytest

from claims.models import Claim
from notice.models import Panel
from tests.claims.helpers import staff

from .test_panel import undecided  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def change_page(client, claim):
    return client.get(f"/admin/claims/claim/{claim.pk}/change/").content.decode()


def decide(client, claim, outcome, note):
    """The decision is one of the claim's admin actions (`decide_approve`, `decide_reject`)."""
    url = f"/admin/claims/claim/{claim.pk}/transition/"
    data = {"action": f"decide_{outcome}", "note": note}
    return client.post(url, data, follow=True).content.decode()


def test_the_adjudicator_sees_the_undecided_panel_and_decides(client, undecided):  # noqa: F811
    claim, panel = undecided
    client.force_login(staff("adj", "adjudicators"))
    queue = client.get("/admin/claims/claim/", {"queue": "panel"}).content.decode()
    assert f"/admin/claims/claim/{claim.pk}/change/" in queue
    page = change_page(client, claim)
    assert "The panel could not decide" in page
    assert "Votes: 2 approve, 1 reject, of 9 jurors." in page
    assert 'value="decide_approve"' in page and 'value="decide_reject"' in page
    refused = decide(client, claim, outcome="approve", note="")
    assert "Please write a note" in refused
    decide(client, claim, outcome="approve", note="The records are consistent.")
    claim.refresh_from_db()
    panel.refresh_from_db()
    assert (claim.status, panel.status, panel.outcome) == ("approved", "decided", "approve")
    assert "The panel could not decide" not in change_page(client, claim)


def test_an_investigator_may_not_decide_for_the_panel(client, undecided):  # noqa: F811
    claim, panel = undecided
    client.force_login(staff("inv", "investigators"))
    page = change_page(client, claim)
    assert "The panel could not decide" not in page and "decide_approve" not in page
    page = decide(client, claim, outcome="approve", note="Looks fine to me.")
    assert "adjudicators" in page
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.PANEL_REVIEW
    assert Panel.objects.get(pk=panel.pk).status == Panel.Status.NEEDS_ADJUDICATOR


def test_the_transition_url_is_post_only(client, undecided):  # noqa: F811
    claim, _panel = undecided
    client.force_login(staff("adj", "adjudicators"))
    assert client.get(f"/admin/claims/claim/{claim.pk}/transition/").status_code == 403
