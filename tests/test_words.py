"""Human words everywhere: no page shows a raw status or action token (`public_notice`,
`request_info`, …) in its visible text, in either language, to any role."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from apportionment.models import Batch
from claims.models import Claim
from claims.workflow import TRANSITIONS
from members.models import Membership
from tests.pages import visible_text, walk

pytestmark = pytest.mark.django_db

# The tokens that are not words: every status and action name with an underscore.
TOKENS = sorted(
    {
        token
        for token in [
            *Claim.Status.values,
            *TRANSITIONS,
            *Membership.Status.values,
            *Batch.Status.values,
        ]
        if "_" in token
    }
)
RAW = re.compile(r"\b(" + "|".join(TOKENS) + r")\b")


@pytest.fixture
def demo(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", members=200)


def test_the_tokens_are_the_ones_people_saw():
    assert {"public_notice", "panel_review", "request_info", "end_in_waiting"} <= set(TOKENS)


def test_no_page_shows_a_raw_status_or_action(demo, client):
    users = {u.username: u for u in get_user_model().objects.all()}
    found, visited = [], 0
    for username, path in walk():
        client.logout()
        if username:
            client.force_login(users[username])
        response = client.get(path)
        assert response.status_code == 200, (username, path, response.status_code)
        visited += 1
        for match in RAW.finditer(visible_text(response.content.decode())):
            found.append((username, path, match.group(0)))
    assert visited > 80
    assert not found, sorted({(re.sub(r"\d+", "N", path), token) for _u, path, token in found})


def test_visible_text_catches_a_raw_token():
    html = '<p>approve → public_notice</p><script>var s = "panel_review";</script>'
    assert RAW.findall(visible_text(html)) == ["public_notice"]
    assert RAW.findall(visible_text('<input type="submit" value="request_info">')) == [
        "request_info"
    ]
