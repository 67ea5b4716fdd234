"""Each member is written to in the language they last used on the site (issue 17)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.models import Notification
from claims.notifications import notify_claimant
from members.languages import language_of
from members.models import AccountSettings
from tests.factories import ClaimFactory, UserFactory

pytestmark = pytest.mark.django_db


def settings_queries(client, path) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in queries.captured_queries if "members_accountsettings" in q["sql"]]


def test_the_language_a_member_uses_is_remembered_once_and_then_costs_nothing(client):
    user = UserFactory()
    client.force_login(user)
    assert language_of(user.pk) == "en"
    assert settings_queries(client, "/zh-hans/dashboard/")  # written once
    assert language_of(user.pk) == "zh-hans"
    assert settings_queries(client, "/zh-hans/dashboard/") == []  # unchanged: no query
    settings_queries(client, "/dashboard/")
    assert language_of(user.pk) == "en"


def test_an_anonymous_visitor_writes_nothing(client):
    assert settings_queries(client, "/zh-hans/") == []
    assert not AccountSettings.objects.exists()


def test_notifications_are_written_in_each_recipients_language(client):
    chinese, english = ClaimFactory(), ClaimFactory()
    client.force_login(chinese.claimant)
    client.get("/zh-hans/dashboard/")
    # Sent from a request (or a worker) in English, whatever the recipient's language.
    notify_claimant(chinese, "approve")
    notify_claimant(english, "approve")
    texts = dict(Notification.objects.values_list("recipient_id", "text"))
    assert texts[chinese.claimant_id].startswith(f"申请 #{chinese.pk} 当前状态：")
    assert texts[english.claimant_id] == f"Claim #{english.pk} is now Public notice."
