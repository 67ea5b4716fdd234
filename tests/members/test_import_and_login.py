import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from members.identity import make_identity_number
from members.models import Membership, Person
from tests.factories import PoolFactory, UserFactory

HEADER = "account,relationship,full_name,sex,birth_date,identity_number,province,pool\n"


def row(account, pool, born, seq, name="Zhang San"):
    number = make_identity_number("330102", born, seq)
    return f"{account},self,{name},M,{born.isoformat()},{number},Zhejiang,{pool}\n"


@pytest.fixture
def operator_client(client, db):
    operator = UserFactory(username="op", is_staff=True)
    operator.groups.add(Group.objects.get(name="operators"))
    client.force_login(operator)
    return client


def upload(client, text):
    return client.post(
        reverse("admin:members_membership_import"),
        {"file": SimpleUploadedFile("members.csv", text.encode(), content_type="text/csv")},
    )


def test_csv_import_enrolls_every_row(operator_client):
    pool = PoolFactory(slug="adults")
    UserFactory(username="u1")
    UserFactory(username="u2")
    born = dt.date(1985, 4, 2)
    response = upload(
        operator_client, HEADER + row("u1", "adults", born, 1) + row("u2", "adults", born, 2)
    )
    assert response.status_code == 302
    assert Membership.objects.filter(pool=pool, status="waiting").count() == 2


def test_csv_import_with_one_bad_row_imports_nothing_and_reports_it(operator_client):
    PoolFactory(slug="adults")
    UserFactory(username="u1")
    UserFactory(username="u2")
    born = dt.date(1985, 4, 2)
    text = (
        HEADER
        + row("u1", "adults", born, 1)
        + row("nobody", "adults", born, 2)
        + row("u2", "adults", dt.date(1950, 1, 1), 3, name="Too Old")
    )
    response = upload(operator_client, text)
    body = response.content.decode()
    assert response.status_code == 200, body[:500]
    assert "No account &#x27;nobody&#x27;" in body and "Too old" in body
    assert "<td>3</td>" in body and "<td>4</td>" in body
    assert not Membership.objects.exists() and not Person.objects.exists()


def test_csv_import_is_for_operators_only(client, db):
    investigator = UserFactory(username="inv", is_staff=True)
    investigator.groups.add(Group.objects.get(name="investigators"))
    client.force_login(investigator)
    assert client.get(reverse("admin:members_membership_import")).status_code == 403


def test_login_locks_out_after_repeated_failures(client, db, settings):
    UserFactory(username="target", password="right-password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "target", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "target", "password": "right-password-1"})
    assert locked.status_code == 429
    assert locked["Retry-After"] == "3600"  # django-axes' cool-off, an hour
    assert "This account is locked" in locked.content.decode()  # the site's page, not axes'
    assert "_auth_user_id" not in client.session
    with translation.override("zh-hans"):
        chinese_login = reverse("login")
    chinese = client.post(chinese_login, {"username": "target", "password": "right-password-1"})
    assert chinese.status_code == 429 and "此账户已被锁定" in chinese.content.decode()
