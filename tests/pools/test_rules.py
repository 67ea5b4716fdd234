"""Versioned pool rules (SPEC 11): published 30 days ahead by an operator, never changed, and a
claim judged by the version in force on its diagnosis date."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from claims import services as claim_services
from claims import workflow
from claims.models import Claim, Notification
from members.models import Membership
from members.services import withdraw_membership
from mutualaid.celery import app
from notice import services as notice_services
from notice.models import Panel
from pools import rule_changes, rules
from pools.models import Pool, RuleVersion
from tests.claims.helpers import staff, to_investigated
from tests.factories import ConditionFactory, MembershipFactory, PoolFactory, UserFactory

pytestmark = pytest.mark.django_db

OLD_PAYOUT, NEW_PAYOUT = 30_000_000, 10_000_000


@pytest.fixture
def operator(db):
    return staff("op", "operators")


@pytest.fixture
def versioned_pool(db):
    """Two covered conditions, one benefit band, its first version in force since 2000."""
    pool = PoolFactory(
        bands=[(0, 59, OLD_PAYOUT)], conditions=[ConditionFactory(code="K1"), ConditionFactory()]
    )
    rule_changes.record_first_version(pool=pool, effective_on=dt.date(2000, 1, 1))
    return pool


def new_values(pool, **changes):
    values = rule_changes.draft_rule_version(pool=pool)
    values.pop("effective_on")
    return {**values, **changes}


def publish(pool, by, *, days=30, on=None, **changes) -> RuleVersion:
    """`by` publishes a change of the pool's latest rules, effective in `days` days (or on
    `on`)."""
    return rule_changes.publish_rule_version(
        pool=pool,
        effective_on=on or pool.today() + dt.timedelta(days=days),
        values=new_values(pool, **changes),
        note="Smaller payout.",
        by=by,
    )


def publish_back_then(monkeypatch, pool, operator, days_ago, **changes) -> RuleVersion:
    """The operator published a change `days_ago` days ago, 30 days ahead: it took effect
    `days_ago - 30` days ago. (The clock is moved back for the publication only.)"""
    then = timezone.now() - dt.timedelta(days=days_ago)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: then)
        return publish(pool, operator, **changes)


# --- publishing: 30 days ahead, by an operator, never changed --------------------------------


def test_a_change_with_less_than_30_days_notice_is_refused(versioned_pool, operator):
    today = versioned_pool.today()
    values = new_values(versioned_pool, annual_cap_cents=20_000)
    for too_soon in (today, today + dt.timedelta(days=29), today - dt.timedelta(days=400)):
        with pytest.raises(ValidationError) as refused:
            rule_changes.publish_rule_version(
                pool=versioned_pool, effective_on=too_soon, values=values, note="", by=operator
            )
        assert refused.value.error_list[0].code == "too_soon"
        assert str(today + dt.timedelta(days=30)) in refused.value.messages[0]
    assert RuleVersion.objects.filter(pool=versioned_pool).count() == 1
    version = publish(versioned_pool, operator, annual_cap_cents=20_000)
    assert version.annual_cap_cents == 20_000 and version.published_by == operator


def test_the_30_days_count_in_the_pools_calendar(versioned_pool, operator, monkeypatch):
    """At 20:00 UTC it is already tomorrow in Shanghai: 30 days from the UTC date is too soon."""
    versioned_pool.time_zone = "Asia/Shanghai"
    versioned_pool.save()
    evening = timezone.now().replace(hour=20, minute=0)
    monkeypatch.setattr(timezone, "now", lambda: evening)
    utc_date = evening.date()
    with pytest.raises(ValidationError, match="at least 30 days"):
        publish(versioned_pool, operator, on=utc_date + dt.timedelta(days=30), annual_cap_cents=1)


def test_only_an_operator_publishes(versioned_pool, people):
    member = MembershipFactory(pool=versioned_pool).person.account
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    for user in (member, people["inv"], people["adj"], superuser, None):
        with pytest.raises(PermissionDenied):
            publish(versioned_pool, user, days=60, annual_cap_cents=1)
    assert RuleVersion.objects.filter(pool=versioned_pool).count() == 1


def test_nothing_changed_or_bad_values_are_refused(versioned_pool, operator):
    day = versioned_pool.today() + dt.timedelta(days=31)
    cases = [
        ({}, "same as the version"),
        ({"condition_codes": ["NOPE"]}, "Unknown condition codes: NOPE"),
        ({"benefit_schedule": [[0, 40, 100], [30, 59, 100]]}, "overlap"),
        ({"benefit_schedule": [[0, 40, 0]]}, "not positive"),
        ({"min_votes": 10}, "vote minimum"),
        ({"exit_age_years": 59}, "exit age"),
    ]
    for changes, reason in cases:
        with pytest.raises(ValidationError, match=reason):
            publish(versioned_pool, operator, on=day, **changes)
    assert RuleVersion.objects.filter(pool=versioned_pool).count() == 1


def test_a_closing_pool_s_rules_no_longer_change(versioned_pool, operator):
    from pools.winddown import announce_wind_down

    announce_wind_down(pool=versioned_pool, actor=operator, via="command")
    with pytest.raises(ValidationError, match="This pool is closing"):
        publish(versioned_pool, operator, annual_cap_cents=1)
    assert RuleVersion.objects.filter(pool=versioned_pool).count() == 1


def test_the_database_refuses_to_change_or_delete_a_published_version(versioned_pool):
    version = RuleVersion.objects.get(pool=versioned_pool)
    for write in (
        lambda: RuleVersion.objects.filter(pk=version.pk).update(annual_cap_cents=1),
        lambda: RuleVersion.objects.filter(pk=version.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="never changed or deleted"):
            with transaction.atomic():
                write()
    assert RuleVersion.objects.get(pk=version.pk).annual_cap_cents == 18_800


def test_one_version_per_pool_and_day(versioned_pool, operator):
    day = versioned_pool.today() + dt.timedelta(days=40)
    publish(versioned_pool, operator, on=day, annual_cap_cents=1)
    with pytest.raises(ValidationError, match="already takes effect"):
        publish(versioned_pool, operator, on=day, annual_cap_cents=2)


# --- members are told, and may leave -----------------------------------------------------------


def test_members_are_told_in_app_and_by_email(
    versioned_pool, operator, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    staying = MembershipFactory(pool=versioned_pool)
    MembershipFactory(
        pool=versioned_pool, person__account=staying.person.account, person__relationship="child"
    )
    gone = MembershipFactory(pool=versioned_pool, status=Membership.Status.WITHDRAWN)
    elsewhere = MembershipFactory()
    with django_capture_on_commit_callbacks(execute=True):
        version = publish(versioned_pool, operator, annual_cap_cents=20_000)
    told = Notification.objects.filter(text=rule_changes.notice_text(version))
    assert list(told.values_list("recipient", flat=True)) == [staying.person.account_id]
    assert version.effective_on.isoformat() in told.get().text and "退出" in told.get().text
    assert [m.to for m in mail.outbox] == [[staying.person.account.email]]
    assert not Notification.objects.filter(
        recipient__in=[gone.person.account, elsewhere.person.account]
    ).exists()


def test_a_member_who_withdrew_before_the_change_owes_no_later_batch(
    versioned_pool, operator, monkeypatch
):
    """The batch engine counts the memberships waiting or active at each batch's cut-off: one
    withdrawn before the change takes part in no batch published after it."""
    from apportionment import publishing
    from apportionment.models import BatchEvent, Charge
    from tests.apportionment.helpers import approved_claim, run_all_chunks

    leaving, staying = MembershipFactory.create_batch(2, pool=versioned_pool)
    publish(versioned_pool, operator, fee_rate_bp=1000)
    withdraw_membership(leaving, leaving.person.account)
    approved_claim(versioned_pool, 1_000)
    started = publishing.start_batch(versioned_pool, actor=operator, via=BatchEvent.Via.ADMIN)
    batch = run_all_chunks(started)
    charged = set(Charge.objects.filter(batch=batch).values_list("membership_id", flat=True))
    assert staying.pk in charged and leaving.pk not in charged


# --- claims judged by the version in force on the diagnosis date --------------------------------


def claim_on(pool, days_ago, condition=None):
    membership = MembershipFactory(pool=pool)  # joined a year ago: past its observation period
    return claim_services.create_draft(
        membership.person.account,
        membership,
        condition=condition or pool.conditions.get(code="K1"),
        cause="illness",
        diagnosis_date=pool.today() - dt.timedelta(days=days_ago),
        hospital="Hospital",
        province="Zhejiang",
    )


def test_a_claim_is_paid_by_the_benefit_in_force_on_its_diagnosis_date(
    versioned_pool,
    operator,
    people,
    monkeypatch,
):
    # Published 60 days ago, in force for the last 30 days.
    publish_back_then(
        monkeypatch,
        versioned_pool,
        operator,
        60,
        benefit_schedule=[[0, 59, NEW_PAYOUT]],
        notice_days=7,
    )
    before = to_investigated(claim_on(versioned_pool, 31), people)
    after = to_investigated(claim_on(versioned_pool, 30), people)
    before = workflow.perform(before, "approve", user=people["adj"])
    after = workflow.perform(after, "approve", user=people["adj2"])
    assert (before.payout_cents, after.payout_cents) == (OLD_PAYOUT, NEW_PAYOUT)
    assert (after.notice_ends_at - timezone.now()).days == 6  # 7 days, from a moment ago
    assert (before.notice_ends_at - timezone.now()).days == 2  # SPEC's 3 days


def test_submit_checks_read_the_version_in_force_on_the_diagnosis_date(
    versioned_pool, operator, monkeypatch
):
    dropped = versioned_pool.conditions.exclude(code="K1").get()
    publish_back_then(monkeypatch, versioned_pool, operator, 45, condition_codes=["K1"])
    covered = claim_on(versioned_pool, 16, condition=dropped)  # before the change
    assert claim_services.submission_problems(covered) == []
    refused = claim_on(versioned_pool, 15, condition=dropped)  # its first day
    problems = claim_services.submission_problems(refused)
    assert problems == [
        "This condition is not covered by the pool's rules in force on "
        f"{versioned_pool.today() - dt.timedelta(days=15)}."
    ]
    with pytest.raises(ValidationError):
        workflow.perform(refused, "submit", user=refused.claimant)
    assert Claim.objects.get(pk=refused.pk).status == Claim.Status.DRAFT


def test_a_join_takes_the_observation_period_in_force_that_day(
    versioned_pool, operator, monkeypatch
):
    from members.services import enroll
    from tests.factories import PersonFactory

    publish_back_then(monkeypatch, versioned_pool, operator, 31, waiting_days=180)
    assert versioned_pool.waiting_days == 90  # the row's cache not applied yet: rules win
    person = PersonFactory(birth_date=dt.date(1990, 1, 1))
    membership = enroll(
        person.account,
        versioned_pool,
        person=person,
        declaration_accepted=True,
        rules_accepted=True,
    )
    assert membership.waiting_ends_on == versioned_pool.today() + dt.timedelta(days=180)


def test_panel_settings_come_from_the_pools_rules(versioned_pool, operator, monkeypatch):
    from tests.notice.test_services import volunteer

    publish_back_then(
        monkeypatch,
        versioned_pool,
        operator,
        40,
        panel_size=3,
        min_votes=2,
        vote_days=1,
        appeal_days=5,
    )
    for _ in range(5):
        volunteer(pool=versioned_pool)
    claim = claim_on(versioned_pool, 5)
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.PANEL_REVIEW)
    now = timezone.now()
    panel = notice_services.draw_panel(claim, now=now)
    assert panel.jurors.count() == 3
    assert panel.deadline == now + dt.timedelta(days=1)
    jurors = list(panel.jurors.order_by("pk"))
    for juror in jurors[:2]:
        notice_services.cast_vote(panel, juror.user, "approve", "Records agree.", now=now)
    notice_services.close_panel(panel, now=now + dt.timedelta(days=2))
    panel.refresh_from_db()
    assert panel.status == Panel.Status.DECIDED  # 2 votes meet this pool's minimum (SPEC: 5)

    old_claim = claim_on(versioned_pool, 20)  # diagnosed before the change: SPEC's 14 days
    Claim.objects.filter(pk=old_claim.pk).update(status=Claim.Status.REJECTED)
    rejected = timezone.now() - dt.timedelta(days=6)
    assert notice_services.appeal_problem(old_claim, rejected=rejected) is None
    claim.status = Claim.Status.REJECTED
    assert (
        notice_services.appeal_problem(claim, rejected=rejected) == "The appeal period has ended."
    )


# --- the pool row caches the version in force ---------------------------------------------------


def test_the_daily_task_applies_the_version_in_force_to_the_pool_row(
    versioned_pool, operator, monkeypatch
):
    kept = versioned_pool.conditions.get(code="K1")
    publish_back_then(
        monkeypatch,
        versioned_pool,
        operator,
        31,
        fee_rate_bp=500,
        grace_days=7,
        condition_codes=["K1"],
        benefit_schedule=[[0, 39, NEW_PAYOUT], [40, 59, 5_000_000]],
    )
    publish(versioned_pool, operator, fee_rate_bp=100)  # announced, not in force: not applied
    assert rule_changes.apply_due_versions() == 1
    pool = Pool.objects.get(pk=versioned_pool.pk)
    assert (pool.fee_rate_bp, pool.grace_days) == (500, 7)
    assert list(pool.conditions.all()) == [kept]
    assert list(pool.benefit_bands.values_list("min_age", "max_age", "payout_cents")) == [
        (0, 39, NEW_PAYOUT),
        (40, 59, 5_000_000),
    ]
    assert rule_changes.apply_due_versions() == 0  # idempotent


# --- the admin -----------------------------------------------------------------------------------


def draft_post(pool, effective_on, **changes):
    values = {**new_values(pool), **changes}
    data = {
        "pool": pool.pk,
        "effective_on": effective_on.isoformat(),
        "note": "Smaller payouts.",
        "conditions": values["condition_codes"],
        "schedule": "\n".join(f"{a}-{b}: {c / 100:.2f}" for a, b, c in values["benefit_schedule"]),
        "annual_cap": f"{values['annual_cap_cents'] / 100:.2f}",
        **{name: values[name] for name in rules.NUMBERS if name != "annual_cap_cents"},
    }
    return data


def test_admin_drafts_shows_the_differences_then_publishes(client, versioned_pool, operator):
    client.force_login(operator)
    url = reverse("admin:pools_ruleversion_add") + f"?pool={versioned_pool.pk}"
    page = client.get(url)
    assert page.status_code == 200
    assert b'value="300000.00"' not in page.content and b"0-59: 300000.00" in page.content
    day = versioned_pool.today() + dt.timedelta(days=30)
    data = draft_post(versioned_pool, day, benefit_schedule=[[0, 59, NEW_PAYOUT]])
    preview = client.post(url, {**data, "preview": "1"})
    body = preview.content.decode()
    assert "rule-differences" in body and "¥300,000.00" in body and "¥100,000.00" in body
    assert 'name="publish"' in body
    assert RuleVersion.objects.filter(pool=versioned_pool).count() == 1  # nothing written yet
    published = client.post(url, {**data, "publish": "1"})
    version = RuleVersion.objects.get(pool=versioned_pool, effective_on=day)
    assert published.status_code == 302
    assert version.benefit_schedule == [[0, 59, NEW_PAYOUT]] and version.note == "Smaller payouts."
    detail = client.get(reverse("admin:pools_ruleversion_change", args=[version.pk]))
    assert detail.status_code == 200 and b'name="_save"' not in detail.content  # read-only


def test_admin_refuses_a_change_with_less_than_30_days_notice(client, versioned_pool, operator):
    client.force_login(operator)
    url = reverse("admin:pools_ruleversion_add") + f"?pool={versioned_pool.pk}"
    day = versioned_pool.today() + dt.timedelta(days=29)
    data = draft_post(versioned_pool, day, annual_cap_cents=20_000)
    for button in ("preview", "publish"):
        response = client.post(url, {**data, button: "1"})
        body = response.content.decode()
        assert response.status_code == 200
        if button == "publish":
            assert "at least 30 days ahead" in body
    later = draft_post(versioned_pool, day + dt.timedelta(days=1), annual_cap_cents=20_000)
    for bad, reason in [
        ({"schedule": "0-59 lots"}, "Cannot read 0-59 lots"),
        ({"schedule": "0-59: 1" + "0" * 20}, "Cannot read"),
        ({"note": "x" * 5000}, "at most 2000 characters"),
        ({"panel_size": 10**12}, "less than or equal to"),
        ({"conditions": ["NOPE"]}, "Select a valid choice"),
    ]:
        body = client.post(url, {**later, **bad, "publish": "1"}).content.decode()
        assert reason in body, reason
    assert RuleVersion.objects.filter(pool=versioned_pool).count() == 1


def test_admin_pool_rule_fields_are_read_only_and_no_one_else_drafts(
    client,
    versioned_pool,
    people,
):
    reviewer = people["adj"]
    client.force_login(reviewer)
    url = reverse("admin:pools_ruleversion_add") + f"?pool={versioned_pool.pk}"
    assert client.get(url).status_code == 403
    data = draft_post(versioned_pool, versioned_pool.today() + dt.timedelta(days=40))
    assert client.post(url, {**data, "publish": "1"}).status_code == 403
    member = MembershipFactory(pool=versioned_pool).person.account
    client.force_login(member)
    response = client.post(url, {**data, "publish": "1"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert RuleVersion.objects.filter(pool=versioned_pool).count() == 1


def test_operators_pool_form_shows_the_cached_rules_read_only(client, versioned_pool, operator):
    client.force_login(operator)
    page = client.get(reverse("admin:pools_pool_change", args=[versioned_pool.pk]))
    assert page.status_code == 200
    assert b'name="fee_rate_bp"' not in page.content and b"Draft a new version" in page.content


def test_a_pool_created_in_the_admin_gets_its_first_version(client):
    admin_user = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    data = {
        "slug": "new-pool",
        "name": "New pool",
        "name_zh": "",
        "description": "",
        "is_open": "on",
        "min_join_age_days": 30,
        "max_join_age_years": 59,
        "exit_age_years": 60,
        "waiting_days": 90,
        "fee_rate_bp": 800,
        "annual_cap_cents": 18800,
        "notice_days": 3,
        "grace_days": 5,
        "reinstate_days": 30,
        "shortfall_policy": "sponsor",
        "publish_days": "7,21",
        "collect_days": "14,28",
        "conditions": [ConditionFactory(code="Z9").pk],
        "time_zone": "Asia/Shanghai",
        "benefit_bands-TOTAL_FORMS": 1,
        "benefit_bands-INITIAL_FORMS": 0,
        "benefit_bands-0-min_age": 0,
        "benefit_bands-0-max_age": 59,
        "benefit_bands-0-payout_cents": 100,
    }
    response = client.post(reverse("admin:pools_pool_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    version = RuleVersion.objects.get(pool__slug="new-pool")
    assert version.condition_codes == ["Z9"] and version.benefit_schedule == [[0, 59, 100]]


# --- the public page and the API -----------------------------------------------------------------


def test_the_rules_page_lists_every_version_with_its_differences(
    client, versioned_pool, operator, monkeypatch
):
    publish_back_then(
        monkeypatch, versioned_pool, operator, 60, benefit_schedule=[[0, 59, NEW_PAYOUT]]
    )
    publish(versioned_pool, operator, days=45, annual_cap_cents=20_000, condition_codes=["K1"])
    url = f"/pools/{versioned_pool.slug}/rules/"
    body = client.get(url).content.decode()
    assert body.count('class="card rule-version"') == 3
    assert body.index("¥188.00") < body.index("¥200.00")  # before → after
    assert '0–59: ¥300,000.00</span> → <span class="after">0–59: ¥100,000.00' in body
    assert "in force" in body and "announced" in body
    assert "removed: T" in body and "added:" not in body
    chinese = client.get("/zh-hans" + url).content.decode()
    assert "生效" in chinese and "¥100,000.00" in chinese
    assert client.get("/pools/no-such-pool/rules/").status_code == 404


def test_the_rules_api(client, versioned_pool, operator, monkeypatch):
    publish_back_then(monkeypatch, versioned_pool, operator, 60, panel_size=7)
    response = client.get(f"/api/v1/pools/{versioned_pool.slug}/rules/")
    assert response.status_code == 200
    newest, first = response.json()
    assert newest["panel_size"] == 7 and newest["in_force"] and not newest["scheduled"]
    assert newest["changes"] == [
        {"field": "panel_size", "label": "panel size (jurors)", "before": "9", "after": "7"}
    ]
    assert (
        first["benefit_schedule"] == [[0, 59, OLD_PAYOUT]] and first["changes"][0]["before"] == ""
    )
    assert client.post(f"/api/v1/pools/{versioned_pool.slug}/rules/", {}).status_code in (403, 405)
    assert client.get("/api/v1/pools/nope/rules/").status_code == 404


def test_a_pool_without_versions_is_judged_by_its_row_and_specs_defaults(db):
    pool = PoolFactory(waiting_days=60)
    today = rules.rules_on(pool, pool.today())
    assert today.waiting_days == 60 and today.panel_size == 9 and today.min_votes == 5
    assert (
        Group.objects.get(name="operators").permissions.filter(codename="add_ruleversion").exists()
    )


# --- the migration -------------------------------------------------------------------------------


def test_every_existing_pool_gets_its_rules_as_a_first_version(transactional_db):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        [("pools", "0004_wind_down")],
        [("pools", "0005_rule_versions")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    pool = old.get_model("pools", "Pool").objects.create(slug="old", name="Old", fee_rate_bp=500)
    pool.benefit_bands.create(min_age=0, max_age=59, payout_cents=123)
    pool.conditions.add(old.get_model("pools", "Condition").objects.create(code="Q1", name="Q"))
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    version = RuleVersion.objects.get(pool__slug="old")
    assert (version.fee_rate_bp, version.panel_size) == (500, 9)
    assert version.condition_codes == ["Q1"] and version.benefit_schedule == [[0, 59, 123]]
    assert version.effective_on < Pool.objects.get(slug="old").today()
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            RuleVersion.objects.filter(pk=version.pk).update(fee_rate_bp=1)


def test_a_batch_takes_the_fee_and_cap_in_force_at_its_cut_off(
    versioned_pool, operator, monkeypatch
):
    """The pool row caches today's version only hourly: a batch cut on a change's first day
    still applies the new fee and cap (apportionment.figures.rules_at)."""
    from apportionment import figures, publishing
    from tests.apportionment.helpers import approved_claim, bulk_members

    publish_back_then(
        monkeypatch, versioned_pool, operator, 30, fee_rate_bp=1_000, annual_cap_cents=50_000
    )
    Pool.objects.filter(pk=versioned_pool.pk).update(fee_rate_bp=800, annual_cap_cents=18_800)
    versioned_pool.refresh_from_db()  # the cache not refreshed yet
    bulk_members(versioned_pool, 9)
    approved_claim(versioned_pool, 100_000)
    cutoff = timezone.now()
    assert figures.preview(versioned_pool, cutoff)["fee_cents"] == 10_000
    batch = publishing.start_batch(versioned_pool, cutoff)
    assert (batch.fee_rate_bp, batch.fee_cents, batch.annual_cap_cents) == (1_000, 10_000, 50_000)


def test_a_join_age_in_whole_years_reads_as_years():
    """The seniors' 18,250 days read as 50 years (issue 17: "from 18250 days old")."""
    assert rules.describe("min_join_age_days", 18_250) == "18250 (50 years old)"
    assert rules.describe("min_join_age_days", 30) == "30"
