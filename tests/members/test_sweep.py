import datetime as dt

import pytest

from members.ages import birthday, born_by
from members.models import Membership
from members.services import daily_status_sweep
from tests.factories import MembershipFactory, PersonFactory, PoolFactory

DAY = dt.date(2026, 6, 15)


def waiting(pool, ends_on):
    return MembershipFactory(
        pool=pool, status="waiting", waiting_ends_on=ends_on, active_since=None
    )


@pytest.mark.django_db
def test_waiting_period_boundaries():
    pool = PoolFactory()
    before, on, after = (waiting(pool, DAY + dt.timedelta(days=d)) for d in (1, 0, -1))
    daily_status_sweep(DAY)
    statuses = {m.pk: Membership.objects.get(pk=m.pk).status for m in (before, on, after)}
    assert statuses == {before.pk: "waiting", on.pk: "active", after.pk: "active"}
    assert Membership.objects.get(pk=on.pk).active_since == DAY
    assert Membership.objects.get(pk=on.pk).status_changes.last().to_status == "active"


@pytest.mark.django_db
def test_sweep_is_idempotent_and_correct_when_late():
    pool = PoolFactory()
    late = waiting(pool, DAY - dt.timedelta(days=10))
    assert daily_status_sweep(DAY) == {"activated": 1, "expired": 0}
    assert daily_status_sweep(DAY) == {"activated": 0, "expired": 0}
    late.refresh_from_db()
    assert late.active_since == DAY - dt.timedelta(days=10)
    assert late.status_changes.filter(to_status="active").count() == 1


@pytest.mark.django_db
def test_exit_age_birthday_boundaries():
    pool = PoolFactory(exit_age_years=60)
    turns_tomorrow = MembershipFactory(
        pool=pool, person=PersonFactory(birth_date=birthday(DAY, -60) + dt.timedelta(days=1))
    )
    turns_today = MembershipFactory(pool=pool, person=PersonFactory(birth_date=birthday(DAY, -60)))
    daily_status_sweep(DAY)
    turns_tomorrow.refresh_from_db()
    turns_today.refresh_from_db()
    assert turns_tomorrow.status == "active"
    assert turns_today.status == "expired" and turns_today.ended_at is not None
    daily_status_sweep(DAY + dt.timedelta(days=1))
    turns_tomorrow.refresh_from_db()
    assert turns_tomorrow.status == "expired"


def test_birthday_of_a_leap_day_baby():
    assert birthday(dt.date(2000, 2, 29), 1) == dt.date(2001, 3, 1)
    assert birthday(dt.date(2000, 2, 29), 4) == dt.date(2004, 2, 29)


@pytest.mark.django_db
def test_the_database_keeps_memberships_and_ties_ended_at_to_the_status():
    """The lean tables lean on these two rules (migration 0005)."""
    from django.db import IntegrityError, ProgrammingError, connection, transaction

    membership = waiting(PoolFactory(), DAY)
    daily_status_sweep(DAY)
    change = membership.status_changes.get()
    assert (change.from_status, change.to_status, change.actor) == ("waiting", "active", None)
    with pytest.raises(ProgrammingError, match="never deleted"), transaction.atomic():
        with connection.cursor() as cursor:  # beneath Django's own PROTECT
            cursor.execute("DELETE FROM members_membership WHERE id = %s", [membership.pk])
    with pytest.raises(IntegrityError, match="membership_ended_exactly_when_closed"):
        with transaction.atomic():
            Membership.objects.filter(pk=membership.pk).update(status="withdrawn")
    assert Membership.objects.get(pk=membership.pk).status == "active"


@pytest.mark.django_db
def test_on_a_leap_day_nobody_is_expired_a_day_early():
    """On 2028-02-29 a person born 2010-03-01 is still 17 (18 tomorrow): the children's pool
    keeps them; one born 2010-02-28 turned 18 yesterday and leaves."""
    pool = PoolFactory(exit_age_years=18, max_join_age_years=17)
    still_17 = MembershipFactory(pool=pool, person=PersonFactory(birth_date=dt.date(2010, 3, 1)))
    turned_18 = MembershipFactory(pool=pool, person=PersonFactory(birth_date=dt.date(2010, 2, 28)))
    daily_status_sweep(dt.date(2028, 2, 29))
    still_17.refresh_from_db()
    turned_18.refresh_from_db()
    assert (still_17.status, turned_18.status) == ("active", "expired")
    daily_status_sweep(dt.date(2028, 3, 1))
    still_17.refresh_from_db()
    assert still_17.status == "expired"


@pytest.mark.parametrize(
    "day,years,expected",
    [
        (dt.date(2028, 2, 29), 18, dt.date(2010, 2, 28)),
        (dt.date(2028, 2, 29), 16, dt.date(2012, 2, 29)),
        (dt.date(2027, 3, 1), 15, dt.date(2012, 3, 1)),
    ],
)
def test_born_by_is_the_inverse_of_birthday(day, years, expected):
    assert born_by(day, years) == expected
    assert birthday(expected, years) <= day < birthday(expected + dt.timedelta(days=1), years)
