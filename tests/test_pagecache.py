"""Page content in the shared cache (mutualaid.pagecache): served from it until a write the
page shows bumps its scope, then rendered afresh; per member and per language; pages keep
working when the cache is unreachable."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.notifications import notify
from members import services
from members.bulk import bulk_change_status
from members.models import Membership
from mutualaid import pagecache
from tests.factories import MembershipFactory

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pagecache"}


@pytest.fixture
def shared_cache(settings):
    settings.CACHES = {**settings.CACHES, "shared": LOCMEM}
    from django.core.cache import caches

    caches["shared"].clear()
    yield caches["shared"]
    caches["shared"].clear()


@pytest.fixture
def member(db):
    return MembershipFactory().person.account


def dashboard(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def test_dashboard_is_served_from_the_cache_until_the_member_tops_up(
    client, member, shared_cache, django_capture_on_commit_callbacks
):
    client.force_login(member)
    assert "¥0.00" in dashboard(client)  # the first view opens the wallet: content renewed
    dashboard(client)
    with CaptureQueriesContext(connection) as queries:
        dashboard(client)
    assert len(queries) == 1, [q["sql"] for q in queries]  # the user; session and page cached
    with django_capture_on_commit_callbacks(execute=True):
        services.top_up_wallet(member, 12_345)
    assert "¥123.45" in dashboard(client)


def test_a_notification_and_a_set_based_status_change_show_at_once(
    client, member, shared_cache, django_capture_on_commit_callbacks
):
    client.force_login(member)
    dashboard(client)
    with django_capture_on_commit_callbacks(execute=True):
        notify(member.pk, "Your claim moved on.")
    assert "Your claim moved on." in dashboard(client)
    with django_capture_on_commit_callbacks(execute=True):
        bulk_change_status(Membership.objects.all(), transition="activate", cause="test")
    assert "Active" in dashboard(client)


def test_each_member_and_language_has_its_own_content(client, member, shared_cache):
    other = MembershipFactory().person
    other.full_name = "Someone Else Entirely"
    other.save()
    client.force_login(member)
    assert "Someone Else Entirely" not in dashboard(client)
    client.force_login(other.account)
    assert "Someone Else Entirely" in dashboard(client)
    assert "我的" in client.get("/zh-hans/dashboard/").content.decode()


def test_public_page_follows_a_pool_change(
    client, member, shared_cache, django_capture_on_commit_callbacks
):
    pool = Membership.objects.get(person__account=member).pool
    assert pool.name in client.get(reverse("home")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        pool.name = "Renamed Pool"
        pool.save()
    assert "Renamed Pool" in client.get(reverse("home")).content.decode()


def test_content_with_a_csrf_token_is_refused(rf, shared_cache, member):
    request = rf.get("/")
    request.user = member
    with pytest.raises(Exception, match="CSRF token"):
        pagecache.render_cached(
            request,
            "registration/login.html",
            lambda: {"form": None},
            name="t",
            scopes=["t"],
            timeout=5,
        )


def test_pages_answer_while_the_cache_is_unreachable(client, member, settings):
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "mutualaid.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2},
        },
    }
    client.force_login(member)
    for name in ("dashboard", "home", "notice", "reports"):
        assert client.get(reverse(name)).status_code == 200, name


def test_a_logout_the_cache_cannot_confirm_fails_and_leaves_the_session_whole(
    client, member, shared_cache, monkeypatch
):
    client.force_login(member)
    dashboard(client)

    def unreachable(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(shared_cache, "delete", unreachable)
    client.raise_request_exception = False
    assert client.post(reverse("logout")).status_code == 500
    monkeypatch.undo()
    assert client.get(reverse("dashboard")).status_code == 200  # still signed in, not half out
    client.post(reverse("logout"))
    assert client.get(reverse("dashboard")).status_code == 302


def count_reads(monkeypatch, cache):
    """Passes every read through to the cache, counting them (a get_many once, not the gets
    the local-memory cache makes it of)."""
    reads = []
    inside = []
    for name in ("get", "get_many"):
        read = getattr(cache, name)

        def counted(*args, _read=read, _name=name, **kwargs):
            if not inside:
                reads.append(_name)
            inside.append(_name)
            try:
                return _read(*args, **kwargs)
            finally:
                inside.pop()

        monkeypatch.setattr(cache, name, counted)
    return reads


def test_a_members_dashboard_is_read_with_the_session_in_one_round_trip(
    client, member, shared_cache, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(member)
    dashboard(client)  # renders and stores the content
    dashboard(client)  # remembers which keys this session's dashboard reads
    reads = count_reads(monkeypatch, shared_cache)
    assert "¥0.00" in dashboard(client)
    assert reads == ["get_many"]  # the session and the content's versions and entry at once
    with django_capture_on_commit_callbacks(execute=True):
        services.top_up_wallet(member, 12_345)
    assert "¥123.45" in dashboard(client)  # versions read with the session are the new ones
    other = MembershipFactory().person.account
    client.force_login(other)  # a new session key: nothing read ahead, nothing of the other's
    assert "¥123.45" not in dashboard(client)


def test_content_read_with_the_session_is_not_used_after_a_write_in_the_same_request(
    client, member, shared_cache, rf, django_capture_on_commit_callbacks
):
    from django.contrib.auth import SESSION_KEY

    from members.dashboard import dashboard_content
    from mutualaid.sessions import SessionStore

    client.force_login(member)
    dashboard(client)
    dashboard(client)
    request = rf.get(reverse("dashboard"))
    request.user = member
    request.session = SessionStore(client.session.session_key)
    request.session.read_ahead = pagecache.read_ahead(request.session.session_key, request.path)
    assert request.session.read_ahead
    assert request.session[SESSION_KEY] == str(member.pk)  # read, with the dashboard's keys
    with django_capture_on_commit_callbacks(execute=True):
        services.top_up_wallet(member, 12_345)  # a write in this same request
    assert "¥123.45" in dashboard_content(request).decode()
