"""Accounts people can recover: email verified by a link at signup and on change, password
change and reset by email (Django's views, our pages)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://\S+")


def link_in(message) -> str:
    return LINK.search(message.body).group(0)


def test_signup_asks_an_email_and_uses_it_only_once_verified(client):
    response = client.post(
        "/signup/",
        {
            "username": "mei",
            "email": "mei@example.org",
            "password1": "a-long-pass-phrase-1",
            "password2": "a-long-pass-phrase-1",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="mei")
    assert user.email == ""  # not verified: nothing is sent there yet
    assert mail.outbox[-1].to == ["mei@example.org"]
    client.get(link_in(mail.outbox[-1]).split("testserver", 1)[1])
    user.refresh_from_db()
    assert user.email == "mei@example.org"


def test_signup_without_an_email_is_refused(client):
    response = client.post(
        "/signup/",
        {
            "username": "mei",
            "password1": "a-long-pass-phrase-1",
            "password2": "a-long-pass-phrase-1",
        },
    )
    assert response.status_code == 200 and not get_user_model().objects.filter(username="mei")


def test_an_email_change_takes_effect_when_its_link_is_opened(client):
    user = UserFactory(email="old@example.org")
    client.force_login(user)
    client.post("/email/", {"email": "new@example.org"})
    user.refresh_from_db()
    assert user.email == "old@example.org" and mail.outbox[-1].to == ["new@example.org"]
    path = link_in(mail.outbox[-1]).split("testserver", 1)[1]
    other = UserFactory()
    client.force_login(other)  # another account cannot use the link
    client.get(path)
    other.refresh_from_db()
    assert other.email != "new@example.org"
    client.force_login(user)
    client.get(path)
    user.refresh_from_db()
    assert user.email == "new@example.org"


def test_the_reset_emails_link_sets_a_new_password(client):
    user = UserFactory(username="mei", email="mei@example.org")
    page = client.get("/password/reset/")
    assert page.status_code == 200 and b"site-header" in page.content  # our layout
    client.post("/password/reset/", {"email": "mei@example.org"})
    assert mail.outbox[-1].to == ["mei@example.org"]
    path = link_in(mail.outbox[-1]).split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    client.post(
        set_url, {"new_password1": "brand-new-secret-42", "new_password2": "brand-new-secret-42"}
    )
    user.refresh_from_db()
    assert user.check_password("brand-new-secret-42")
    client.logout()
    login = client.post("/login/", {"username": "mei", "password": "brand-new-secret-42"})
    assert login.status_code == 302  # signed in with the new password


def test_a_member_changes_their_password(client):
    user = UserFactory(username="mei")
    client.force_login(user)
    assert client.get("/password/change/").status_code == 200
    client.post(
        "/password/change/",
        {
            "old_password": "pw-for-tests-1",
            "new_password1": "brand-new-secret-42",
            "new_password2": "brand-new-secret-42",
        },
    )
    user.refresh_from_db()
    assert user.check_password("brand-new-secret-42")
