"""A locked log-in, as a member meets it on a phone: the site's page in their language, with
Retry-After, where django-axes answered one line of English text."""

import pytest

from tests.browser import browser_page
from tests.factories import UserFactory
from tests.test_phone import OVERFLOW, SMALL_PHONE


@pytest.mark.browser
@pytest.mark.parametrize(
    ("prefix", "message"),
    [("", "This account is locked"), ("/zh-hans", "此账户已被锁定")],
)
def test_a_locked_log_in_is_the_sites_page_on_a_360_px_phone(
    live_server, transactional_db, settings, monkeypatch, tmp_path, prefix, message
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    UserFactory(username="target", password="right-password-1")
    with browser_page(viewport=SMALL_PHONE) as page:
        for password in ["wrong"] * settings.AXES_FAILURE_LIMIT + ["right-password-1"]:
            page.goto(f"{live_server.url}{prefix}/login/")
            page.fill("input[name=username]", "target")
            page.fill("input[name=password]", password)
            with page.expect_response(lambda r: r.request.method == "POST") as answer:
                page.press("input[name=password]", "Enter")
        response = answer.value
        assert response.status == 429
        assert response.headers["retry-after"] == "3600"
        assert message in page.inner_text("main")
        assert page.evaluate(OVERFLOW) is None
        page.screenshot(path=tmp_path / f"locked{prefix.replace('/', '-')}.png", full_page=True)
