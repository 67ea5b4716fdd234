"""Factories shared by every area's tests."""

import datetime as dt
import functools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from claims.models import Claim
from members.identity import make_identity_number
from members.models import Membership, Person
from pools.models import BenefitBand, Condition, Pool


@functools.cache
def _password_hash(password: str) -> str:
    return make_password(password)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    # Hashed once per run: hashing it for every user took most of many tests' setup time.
    password = factory.Transformer("pw-for-tests-1", transform=_password_hash)


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n:03d}")
    name = factory.Sequence(lambda n: f"Test illness {n}")
    category = "Cancer"


class PoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pool
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"pool-{n}")
    name = factory.Sequence(lambda n: f"Pool {n}")

    @factory.post_generation
    def bands(pool, create, extracted, **kwargs):
        if not create:
            return
        for low, high, payout in extracted or [(0, 39, 30_000_000), (40, 59, 10_000_000)]:
            BenefitBand.objects.get_or_create(
                pool=pool, min_age=low, defaults={"max_age": high, "payout_cents": payout}
            )

    @factory.post_generation
    def conditions(pool, create, extracted, **kwargs):
        if create:
            pool.conditions.add(*(extracted or [ConditionFactory()]))


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    account = factory.SubFactory(UserFactory)
    relationship = Person.Relationship.SELF
    full_name = factory.Sequence(lambda n: f"Member Number{n}")
    sex = Person.Sex.FEMALE
    birth_date = dt.date(1990, 5, 17)
    identity_number = factory.LazyAttributeSequence(
        lambda p, n: make_identity_number("330102", p.birth_date, n)
    )
    province = "Zhejiang"


class MembershipFactory(factory.django.DjangoModelFactory):
    """An active membership that joined a year ago (past its waiting period)."""

    class Meta:
        model = Membership

    person = factory.SubFactory(PersonFactory)
    pool = factory.SubFactory(PoolFactory)
    status = Membership.Status.ACTIVE
    joined_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=365))
    waiting_ends_on = factory.LazyAttribute(
        lambda m: (m.joined_at + dt.timedelta(days=m.pool.waiting_days)).date()
    )
    active_since = factory.LazyAttribute(lambda m: m.waiting_ends_on)
    status_changed_at = factory.LazyFunction(timezone.now)
    ended_at = factory.LazyAttribute(
        lambda m: None if m.status in Membership.OPEN_STATUSES else timezone.now()
    )


class ClaimFactory(factory.django.DjangoModelFactory):
    """A claim on public notice, with its payout, for a 1990-born member of a fresh pool."""

    class Meta:
        model = Claim

    membership = factory.SubFactory(MembershipFactory)
    pool = factory.SelfAttribute("membership.pool")
    claimant = factory.SelfAttribute("membership.person.account")
    condition = factory.SubFactory(ConditionFactory)
    diagnosis_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=20))
    hospital = "Hospital"
    province = "Zhejiang"
    status = Claim.Status.PUBLIC_NOTICE
    payout_cents = 30000000
    notice_ends_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=3))
