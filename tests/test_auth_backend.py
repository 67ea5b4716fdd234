"""The signed-in user is read by a statement compiled once (mutualaid.auth): the same user the
ORM gives, read from the database on every request, so a deactivation or a password change
signs the member out at once, however it was written."""

import psycopg
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mutualaid import auth
from tests.factories import UserFactory

User = get_user_model()
LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "auth-tests"}


def test_the_user_is_the_one_the_orm_gives(db):
    user = UserFactory(first_name="Ann", last_name="Lee", is_staff=True)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    expected = User.objects.get(pk=user.pk)
    with CaptureQueriesContext(connection) as queries:
        found = auth.user_by_pk(user.pk)
    assert len(queries) == 1
    assert type(found) is User and found.pk == user.pk and not found._state.adding
    for field in User._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert found.last_login.tzinfo is not None
    assert found.get_session_auth_hash() == expected.get_session_auth_hash()
    assert auth.user_by_pk(user.pk + 1000) is None


def test_signing_in_records_this_backend(client, db):
    UserFactory(username="ann", password="right-password-1")
    response = client.post(reverse("login"), {"username": "ann", "password": "right-password-1"})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == auth.PATH
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_deactivation_without_signals_signs_the_member_out(client, db):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("dashboard")).status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)  # set-based: no signal, no bump
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_password_change_elsewhere_signs_other_sessions_out(client, db):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("dashboard")).status_code == 200
    user.set_password("a-new-password-2")
    user.save()
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_a_connection_the_server_dropped_is_replaced_for_a_signed_in_page(
    client, transactional_db, settings
):
    """The user's SELECT stands in for the health check: a persistent connection the server
    closed (a restart, an idle timeout) is replaced and the page answers. (Sessions come from
    the cache here, so that SELECT is the request's first query.)"""
    settings.CACHES = {**settings.CACHES, "shared": LOCMEM}
    client.force_login(UserFactory())
    assert client.get(reverse("dashboard")).status_code == 200
    assert connection.health_check_enabled
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"], autocommit=True
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection.close_if_unusable_or_obsolete()  # what request_started does under a server
    assert client.get(reverse("dashboard")).status_code == 200
    assert connection.connection.info.backend_pid != pid
