import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from claims.models import Claim
from members.models import Membership, Person
from pools.models import Condition, Pool


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"n6user{n}")


class PoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pool

    slug = factory.Sequence(lambda n: f"n6pool{n}")
    name = factory.Sequence(lambda n: f"Pool {n}")


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition

    code = factory.Sequence(lambda n: f"N6C{n}")
    name = factory.Sequence(lambda n: f"Condition {n}")
    category = "cancer"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    account = factory.SubFactory(UserFactory)
    relationship = Person.Relationship.SELF
    full_name = factory.Sequence(lambda n: f"Secretname{n}")
    sex = Person.Sex.FEMALE
    birth_date = datetime.date(1990, 1, 1)
    identity_number = factory.Sequence(lambda n: f"1101011990{n:08d}")
    province = "Zhejiang"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    person = factory.SubFactory(PersonFactory)
    pool = factory.SubFactory(PoolFactory)
    status = Membership.Status.ACTIVE
    joined_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=200))
    waiting_ends_on = factory.LazyFunction(
        lambda: timezone.localdate() - datetime.timedelta(days=110)
    )
    active_since = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=110))
    status_changed_at = factory.LazyFunction(timezone.now)


class ClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Claim

    membership = factory.SubFactory(MembershipFactory)
    pool = factory.SelfAttribute("membership.pool")
    claimant = factory.SelfAttribute("membership.person.account")
    condition = factory.SubFactory(ConditionFactory)
    diagnosis_date = factory.LazyFunction(
        lambda: timezone.localdate() - datetime.timedelta(days=20)
    )
    hospital = "Hospital"
    province = "Zhejiang"
    status = Claim.Status.PUBLIC_NOTICE
    payout_cents = 30000000
    notice_ends_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=3))
