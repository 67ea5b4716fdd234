"""What the claim tests share: drafts, staff, the review walk in a browser, sample files."""

import datetime as dt

from django.contrib.auth.models import Group
from django.utils import timezone

from claims import services, workflow
from tests.factories import MembershipFactory, UserFactory


def draft(membership=None, cause="illness", days_ago=10, condition=None):
    membership = membership or MembershipFactory()
    condition = condition or membership.pool.conditions.first()
    return services.create_draft(
        membership.person.account,
        membership,
        condition=condition,
        cause=cause,
        diagnosis_date=timezone.localdate() - dt.timedelta(days=days_ago),
        hospital="Hospital",
        province="Zhejiang",
        description="",
    )


def to_investigated(claim, people):
    claim = workflow.perform(claim, "submit", user=claim.claimant)
    claim = workflow.perform(claim, "assign", user=people["inv"])
    return workflow.perform(claim, "report", user=people["inv"], note="Confirmed by records.")


def staff(name, group):
    user = UserFactory(username=name, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def take_action(page, base, claim, action, note=""):
    page.goto(f"{base}/admin/claims/claim/{claim.pk}/change/")
    form = page.locator("#claim-actions form").filter(
        has=page.locator(f'input[name=action][value="{action}"]')
    )
    if note:
        form.locator("textarea[name=note]").fill(note)
    form.locator("input[type=submit]").click()
    page.wait_for_load_state()


def log_in(page, url, username):
    page.goto(url)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form", has=page.locator("input[name=password]")).locator("[type=submit]").click()
    page.wait_for_load_state()


PASSWORD = "pw-for-tests-1"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
