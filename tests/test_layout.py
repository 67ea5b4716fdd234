"""The layout around the main pages is rendered once per process (mutualaid.layout) and each
request fills in its own CSRF token, path and messages: every page is the one Django's `render`
gives for this request, and no member or language ever gets another's layout."""

import re

import pytest
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ImproperlyConfigured
from django.middleware.csrf import _get_new_csrf_string, _unmask_cipher_token
from django.shortcuts import render
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe

from mutualaid import layout
from tests.factories import MembershipFactory, UserFactory

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')
PAGES = ["home", "dashboard", "notice", "reports"]
TEMPLATES = {
    "home": "pools/home.html",
    "dashboard": "members/dashboard.html",
    "notice": "notice/board.html",
    "reports": "reports/index.html",
}


def tokens(html):
    return TOKEN.findall(html)


def request_for(user, secret=None, path="/notice/?pool=a&condition=b"):
    """A request as the middleware leaves it: user, session, messages, the CSRF secret."""
    request = RequestFactory().get(path)
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    request.META["CSRF_COOKIE"] = secret or _get_new_csrf_string()
    return request


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("name", PAGES)
def test_each_page_is_what_render_gives_for_this_request(db, name, signed_in, language):
    """Token aside (a fresh mask each time), the page is byte for byte Django's rendering:
    navigation, language, the language form's return path (escaped), the messages."""
    user = MembershipFactory().person.account if signed_in else AnonymousUser()
    content = "<p>the page's own content · ¥1.00</p>"
    with translation.override(language):
        for shown in ("Saved <yours>.", "Saved again."):  # built, then reused
            request = request_for(user)
            messages.success(request, shown)
            page = layout.render_page(request, TEMPLATES[name], content.encode()).content.decode()
            expected_request = request_for(user, request.META["CSRF_COOKIE"])
            messages.success(expected_request, shown)
            expected = render(expected_request, TEMPLATES[name], {"content": mark_safe(content)})
            assert TOKEN.sub("T", page) == TOKEN.sub("T", expected.content.decode())
            assert escape(shown) in page and 'value="/notice/?pool=a&amp;condition=b"' in page
            assert ("/logout/" in page) == signed_in
            assert len(tokens(page)) == (2 if signed_in else 1)  # language form, logout
            assert len(set(tokens(page))) == 1  # one token for every form, as `render` gives
            secret = request.META["CSRF_COOKIE"]
            assert all(_unmask_cipher_token(token) == secret for token in tokens(page))


def test_no_member_or_language_gets_another_ones_layout(client, db):
    """Two members and two languages in turn through the same process: each page has its
    own member's content, language, navigation, messages and a token for its own secret."""
    alice = MembershipFactory().person
    alice.full_name = "Alice Only"
    alice.save()
    bob = MembershipFactory().person
    bob.full_name = "Bob Only"
    bob.save()
    pages = {}
    for person, language in [(alice, "en"), (bob, "zh-hans"), (alice, "zh-hans"), (bob, "en")]:
        client.force_login(person.account)
        with translation.override(language):
            html = client.get(reverse("dashboard")).content.decode()
        secret = client.cookies["csrftoken"].value
        assert all(_unmask_cipher_token(token) == secret for token in tokens(html))
        other = bob if person == alice else alice
        assert person.full_name in html and other.full_name not in html
        assert f'<html lang="{language}">' in html
        pages[person.pk, language] = html
        home = client.get(reverse("home")).content.decode()
        assert "/logout/" in home and "/login/" not in home
    assert "我的" in pages[alice.pk, "zh-hans"] and "我的" not in pages[alice.pk, "en"]
    anonymous = client.__class__().get(reverse("home")).content.decode()
    assert "/login/" in anonymous and "/logout/" not in anonymous


def test_every_request_gets_a_fresh_token_for_its_own_secret(client, db):
    client.force_login(UserFactory())
    first = tokens(client.get(reverse("dashboard")).content.decode())
    second = tokens(client.get(reverse("dashboard")).content.decode())
    assert first and second and first[0] != second[0]  # masked anew: no token is reused
    secret = client.cookies["csrftoken"].value
    assert _unmask_cipher_token(first[0]) == _unmask_cipher_token(second[0]) == secret
    someone_else = client.__class__()
    someone_else.force_login(UserFactory())
    theirs = tokens(someone_else.get(reverse("dashboard")).content.decode())
    assert _unmask_cipher_token(theirs[0]) == someone_else.cookies["csrftoken"].value != secret


def test_the_language_form_posts_with_the_pages_token(client, db):
    """The CSRF check still guards the forms of a cached layout: its token passes, none fails."""
    client = client.__class__(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    token = tokens(client.get(reverse("dashboard")).content.decode())[0]
    refused = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert refused.status_code == 403
    accepted = client.post(
        reverse("set_language"),
        {"language": "zh-hans", "next": "/", "csrfmiddlewaretoken": token},
    )
    assert accepted.status_code == 302


def test_a_message_is_shown_once_then_gone(client, db):
    response = client.post(
        reverse("signup"),
        {
            "username": "newbie",
            "email": "newbie@example.org",
            "password1": "a-long-pass-9x",
            "password2": "a-long-pass-9x",
        },
    )
    assert response.status_code == 302
    first = client.get(reverse("dashboard")).content.decode()
    assert "Welcome! Your account and wallet are ready." in first
    assert "Welcome!" not in client.get(reverse("dashboard")).content.decode()


def test_a_layout_reading_the_user_or_request_is_refused(db, settings, tmp_path):
    """What is cached for everyone may not read who is asking: such a template fails loudly."""
    (tmp_path / "named.html").write_text(
        '{% extends "base.html" %}{% block content %}{{ user.username }}{{ content }}{% endblock %}'
    )
    (tmp_path / "header.html").write_text(
        '{% extends "base.html" %}{% block content %}{{ request.META }}{{ content }}{% endblock %}'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    for template in ("named.html", "header.html"):
        with pytest.raises(ImproperlyConfigured, match="may not read"):
            layout.render_page(request_for(UserFactory()), template, b"x")
