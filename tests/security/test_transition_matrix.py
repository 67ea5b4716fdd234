"""Every claim transition × every role × every entry point, generated from the transition table.

For each transition of claims.workflow.TRANSITIONS a claim is brought to the transition's source
state through the real services; then every role posts it through the claim page, the API and
the admin. Exactly the combinations allowed by the transition's declared actor (SPEC 4: "Who
moves a claim") change the claim; every other one is refused and leaves the claim, its events,
the evidence log, appeals and panels as they were. A new transition is covered by being in the
table; a system transition made reachable from a request fails here.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from claims import services, workflow
from claims.models import Claim, EvidenceRecord
from notice import services as notice_services
from notice.models import Appeal, Juror, JuryVolunteer, Panel
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Claim.Status
NOTE = "A note long enough for every rule of every transition."
ROLES = [
    "anonymous",
    "claimant",
    "other_member",
    "juror",
    "investigator",
    "own_investigator",  # in both staff groups and the claim's investigator
    "adjudicator",
    "operator",
    "two_groups",  # in both staff groups, not the claim's investigator
]
ENTRY_POINTS = ["page", "api", "admin"]
# SPEC 4 names these as the system's: no request may make them, whatever the table says.
SPEC_SYSTEM_TRANSITIONS = {
    "close_notice",
    "object",
    "panel_approve",
    "panel_reject",
    "apportion",
    "pay",
}
STAFF_GROUPS = {
    "investigator": ["investigators"],
    "own_investigator": ["investigators", "adjudicators"],
    "adjudicator": ["adjudicators"],
    "operator": ["operators"],
    "two_groups": ["investigators", "adjudicators"],
}


def allowed_roles(name: str, entry: str) -> set[str]:
    """Who may make the transition through this entry point, from its declared actor."""
    actor = workflow.TRANSITIONS[name].actor
    if actor == workflow.CLAIMANT:
        return {"claimant"} if entry in ("page", "api") else set()
    if entry != "admin":
        return set()  # staff work in the admin; the claim page and the API are the claimant's
    if actor == workflow.INVESTIGATOR:
        # Unassigned, any investigator takes it; afterwards only the one it is assigned to.
        return (
            {"investigator", "own_investigator", "two_groups"}
            if name == "assign"
            else {"own_investigator"}
        )
    if actor == workflow.ADJUDICATOR:
        return {"adjudicator", "two_groups"}  # never the claim's own investigator (four eyes)
    return set()


@pytest.fixture
def cast(db):
    users = {"anonymous": None}
    for role in ("claimant", "other_member", "juror"):
        users[role] = MembershipFactory(person__account=UserFactory(username=role)).person.account
    JuryVolunteer.objects.create(user=users["juror"], accepted_rules_at=timezone.now())
    for role, groups in STAFF_GROUPS.items():
        users[role] = UserFactory(username=role, is_staff=True)
        users[role].groups.add(*Group.objects.filter(name__in=groups))
    users["decider"] = UserFactory(username="decider", is_staff=True)
    users["decider"].groups.add(Group.objects.get(name="adjudicators"))
    return users


def claim_in(state: str, users) -> Claim:
    """A claim of the claimant's brought to `state` through the real services."""
    claimant = users["claimant"]
    # A membership of a new pool each time: one open claim per membership.
    membership = MembershipFactory(person=claimant.persons.get())
    claim = services.create_draft(
        claimant,
        membership,
        condition=membership.pool.conditions.first(),
        cause="illness",
        diagnosis_date=timezone.localdate() - dt.timedelta(days=10),
        hospital="Hospital",
        province="Zhejiang",
    )
    if state == S.DRAFT:
        return claim
    claim = workflow.perform(claim, "submit", user=claimant)
    if state == S.SUBMITTED:
        return claim
    claim = workflow.perform(claim, "assign", user=users["own_investigator"])
    if state == S.INVESTIGATING:
        return claim
    if state == S.NEEDS_INFO:
        return workflow.perform(claim, "request_info", user=users["own_investigator"], note=NOTE)
    claim = workflow.perform(claim, "report", user=users["own_investigator"], note=NOTE)
    if state == S.INVESTIGATED:
        return claim
    if state == S.REJECTED:
        return workflow.perform(claim, "reject", user=users["decider"], note=NOTE)
    claim = workflow.perform(claim, "approve", user=users["decider"])
    if state == S.PUBLIC_NOTICE:
        return claim
    if state == S.PANEL_REVIEW:
        # Objected, and its panel cast too few votes: the adjudicator may decide it.
        claim = workflow.run_system(claim, "object")
        panel = notice_services.draw_panel(claim)
        Juror.objects.get_or_create(panel=panel, user=users["juror"])
        notice_services.close_panel(panel, now=panel.deadline + dt.timedelta(minutes=1))
        assert Panel.objects.get(pk=panel.pk).status == Panel.Status.NEEDS_ADJUDICATOR
        return Claim.objects.get(pk=claim.pk)
    claim = workflow.run_system(claim, "close_notice")
    if state == S.APPROVED:
        return claim
    workflow.run_system_many([claim.pk], "apportion")
    assert state == S.APPORTIONED
    return Claim.objects.get(pk=claim.pk)


def snapshot(claim: Claim):
    row = Claim.objects.filter(pk=claim.pk).values().get()
    row.pop("updated_at")
    return (
        row,
        list(claim.events.values_list("pk", flat=True)),
        EvidenceRecord.objects.count(),
        Appeal.objects.filter(claim=claim).count(),
        list(Panel.objects.filter(claim=claim).values_list("status", "outcome")),
        claim.membership.status,
    )


def post(entry: str, claim: Claim, name: str, user):
    client = Client()
    if user is not None:
        client.force_login(user)
    if entry == "page":
        data = {"form": "transition", "action": name, "note": NOTE}
        return client.post(f"/claims/{claim.pk}/", data)
    if entry == "api":
        data = {"action": name, "note": NOTE}
        return client.post(f"/api/v1/claims/{claim.pk}/transition/", data, "application/json")
    data = {
        "action": name,
        "note": NOTE,
        "first_diagnosed_on": claim.membership.joined_on.isoformat(),
    }
    return client.post(f"/admin/claims/claim/{claim.pk}/transition/", data)


def test_the_spec_system_transitions_are_the_systems_in_the_table():
    declared = {n for n, rule in workflow.TRANSITIONS.items() if rule.actor == workflow.SYSTEM}
    assert SPEC_SYSTEM_TRANSITIONS <= declared


@pytest.mark.parametrize("name", sorted(workflow.TRANSITIONS))
def test_exactly_the_declared_actor_makes_the_transition(cast, name):
    """Refused combinations share one claim (nothing may change it); each allowed one gets a
    claim of its own."""
    rule = workflow.TRANSITIONS[name]
    claim = claim_in(rule.sources[0], cast)
    before = snapshot(claim)
    for entry in ENTRY_POINTS:
        for role in set(ROLES) - allowed_roles(name, entry):
            response = post(entry, claim, name, cast[role])
            assert response.status_code < 500, (entry, role, response.status_code)
            assert snapshot(claim) == before, f"{role} made {name} through the {entry}"
            if entry != "admin" and role != "anonymous":
                assert response.status_code in (400, 403, 404), (entry, role, response.status_code)
    for entry in ENTRY_POINTS:
        for role in sorted(allowed_roles(name, entry)):
            claim = claim_in(rule.sources[0], cast)
            response = post(entry, claim, name, cast[role])
            assert response.status_code in (200, 302), (entry, role, response.status_code)
            claim.refresh_from_db()
            assert claim.status == rule.target, f"{role} could not make {name} through the {entry}"
            event = claim.events.last()
            assert (event.action, event.actor) == (name, cast[role])
            record = EvidenceRecord.objects.order_by("-seq").filter(kind=f"claim.{name}").first()
            assert record is not None and record.payload["claim"] == claim.pk


def test_the_matrix_covers_every_combination():
    combinations = len(workflow.TRANSITIONS) * len(ROLES) * len(ENTRY_POINTS)
    allowed = sum(len(allowed_roles(n, e)) for n in workflow.TRANSITIONS for e in ENTRY_POINTS)
    assert (combinations, allowed) == (19 * 9 * 3, 22)


@pytest.mark.parametrize("name", sorted(SPEC_SYSTEM_TRANSITIONS))
def test_a_system_transition_is_refused_to_every_person_in_the_service(cast, name):
    """perform() itself, below every entry point, refuses the system's transitions."""
    rule = workflow.TRANSITIONS[name]
    claim = claim_in(rule.sources[0], cast)
    before = snapshot(claim)
    for role in ROLES[1:]:
        with pytest.raises(Exception) as refused:
            workflow.perform(claim, name, user=cast[role], note=NOTE)
        assert "system" in str(refused.value)
    assert snapshot(claim) == before


def test_the_page_and_the_api_offer_exactly_what_they_accept(cast):
    """The claimant sees as buttons (page) and `actions` (API) what available_actions gives."""
    claim = claim_in(S.SUBMITTED, cast)
    client = Client()
    client.force_login(cast["claimant"])
    page = client.get(f"/claims/{claim.pk}/").content.decode()
    data = client.get(f"/api/v1/claims/{claim.pk}/").json()
    assert [a["action"] for a in data["actions"]] == ["withdraw"]
    assert 'value="withdraw"' in page
    for name in workflow.TRANSITIONS:
        if name != "withdraw":
            assert f'name="action" value="{name}"' not in page
