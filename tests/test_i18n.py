"""Every string of ours is translated, and Chinese pages show none of our English."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from apportionment import publishing
from claims.models import Claim
from notice import services
from pools.rule_changes import record_first_version
from tests.apportionment.helpers import approved_claim, run_all_chunks
from tests.conftest import ROOT
from tests.factories import ClaimFactory, MembershipFactory
from tests.pages import our_english

PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_message_is_translated_and_none_is_fuzzy():
    text = PO.read_text(encoding="utf-8")
    blocks = text.split("\n\n")[1:]
    assert blocks, "the catalogue is empty"
    assert not [b for b in blocks if "#, fuzzy" in b], "fuzzy entries are guesses: translate them"
    empty = [
        b
        for b in blocks
        if re.search(r'^msgstr(\[0\])? ""\n?$', b.strip() + "\n", re.M)
        and not re.search(r'^msgstr(\[0\])? ""\n"', b, re.M)
    ]
    assert not empty, "untranslated:\n" + "\n\n".join(empty)


@pytest.mark.django_db
def test_chinese_pages_show_no_english_of_ours(client):
    membership = MembershipFactory()
    approved_claim(membership.pool, 1_000, membership=None)
    batch = run_all_chunks(publishing.start_batch(membership.pool))
    on_notice = ClaimFactory()
    services.volunteer_for_panels(membership.person.account, rules_accepted=True)
    panel = services.draw_panel(ClaimFactory(status=Claim.Status.PANEL_REVIEW), seed=1)
    record_first_version(pool=membership.pool)
    client.force_login(membership.person.account)
    english = our_english()
    for name, args in [
        ("home", []),
        ("join", []),
        ("dashboard", []),
        ("my-charges", []),
        ("statement", []),
        ("reports", []),
        ("report-detail", [batch.pk]),
        ("top-up", []),
        ("claim-new", []),
        ("notice", []),
        ("notice-record", [on_notice.pk]),
        ("jury-volunteer", []),
        ("panel", [panel.pk]),
        ("notice-record", [panel.claim_id]),
        ("pool-rules", [membership.pool.slug]),
    ]:
        with translation.override("zh-hans"):
            url = reverse(name, args=args)
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        leaked = [text for text in english if text in body]
        assert not leaked, f"{url} shows untranslated strings: {leaked}"


@pytest.mark.django_db
def test_chinese_pages_show_the_demos_data_in_chinese(client, settings):
    """Pool, condition and province names are data, not messages: on a Chinese page they are
    Chinese too (every public and member page of the demo)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from pools.models import Condition, Pool
    from pools.names import PROVINCES_ZH
    from tests.pages import visible_text, walk

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", members=200)
    english = [*Pool.objects.values_list("name", flat=True)]
    english += [*Condition.objects.values_list("name", flat=True)]
    english += [name for name in PROVINCES_ZH if len(name) > 4]  # not inside other words
    users = {u.username: u for u in get_user_model().objects.all()}
    leaks = set()
    for username, path in walk():
        if not path.startswith("/zh-hans/") or path.startswith("/zh-hans/admin"):
            continue
        client.logout()
        if username:
            client.force_login(users[username])
        text = visible_text(client.get(path).content.decode())
        leaks |= {(path, name) for name in english if re.search(rf"\b{re.escape(name)}\b", text)}
    assert not leaks, sorted(leaks)[:20]
