"""The whole product on a phone, once in English and once in Simplified Chinese: sign up, enroll
self and a child, top up, file a claim with a file; an investigator and an adjudicator take it
to public notice; the notice ends; an operator runs the batch from the admin; the member sees
the charge, checks its proof and downloads the year's statement; the operator announces the
pool's closing and the member sees its banner. In Chinese, no page shows an untranslated
string of ours."""

import datetime as dt
import subprocess
import sys

import pytest
from pypdf import PdfReader

from apportionment.models import Batch, Charge
from claims.models import Claim
from members.identity import make_identity_number
from members.models import Membership
from mutualaid.templatetags.money import cents
from notice.services import close_ended_notices
from pools.models import WindDown
from pools.winddown import announce_wind_down
from tests.apportionment.helpers import bulk_members
from tests.browser import browser_page
from tests.claims.helpers import PASSWORD, PNG, log_in, staff, take_action
from tests.conftest import ROOT, wait_for
from tests.factories import PoolFactory
from tests.pages import our_english

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker]

LOCALES = {"en": "en-US", "zh-hans": "zh-CN"}
PREFIX = {"en": "", "zh-hans": "/zh-hans"}  # English is unprefixed (i18n_patterns)


class Journey:
    """One phone, one language: every page visited is checked for our untranslated English."""

    def __init__(self, page, base, language):
        self.page, self.base, self.language = page, base, language
        self.english = our_english() if language != "en" else []
        self.visited = []

    def go(self, path):
        self.page.goto(self.base + path)
        self.check()

    def check(self):
        self.page.wait_for_load_state()
        self.visited.append(self.page.url)
        if self.english:
            text = self.page.content()
            leaked = [s for s in self.english if s in text]
            assert not leaked, f"{self.page.url} shows untranslated strings: {leaked}"

    def submit(self, form_selector="main form"):
        self.page.locator(form_selector).locator("[type=submit]").last.click()
        self.check()

    def join(self, pool, relationship, name, born, sex):
        self.go("/join/")
        page = self.page
        page.select_option("select[name=pool]", str(pool.pk))
        page.select_option("select[name=relationship]", relationship)
        page.fill("input[name=full_name]", name)
        page.select_option("select[name=sex]", sex)
        page.fill("input[name=birth_date]", born.isoformat())
        page.fill(
            "input[name=identity_number]",
            make_identity_number("330102", born, 2 if sex == "F" else 1),
        )
        page.fill("input[name=province]", "Zhejiang")
        page.check("input[name=declaration]")
        page.check("input[name=rules]")
        self.submit()
        assert page.url.endswith("/dashboard/"), page.inner_text("main")


@pytest.mark.parametrize("language", LOCALES)
def test_member_journey_on_a_phone(
    language, live_server, transactional_db, celery_worker_process, tmp_path, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls beside Playwright
    pool = PoolFactory(name="Critical illness, adults", annual_cap_cents=10**9, is_open=True)
    bulk_members(pool, 40)  # the other participants
    staff("investigator", "investigators")
    staff("adjudicator", "adjudicators")
    operator = staff("operator", "operators")
    celery_worker_process()
    scan = tmp_path / "scan.png"
    scan.write_bytes(PNG)
    username = f"mei-{language}"
    base = live_server.url + PREFIX[language]

    with browser_page(locale=LOCALES[language]) as page:
        trip = Journey(page, base, language)
        trip.go("/")
        trip.go("/signup/")
        page.fill("input[name=username]", username)
        page.fill("input[name=email]", f"{username}@example.org")
        page.fill("input[name=password1]", PASSWORD)
        page.fill("input[name=password2]", PASSWORD)
        trip.submit()
        assert page.url.endswith("/dashboard/")

        trip.join(pool, "self", "Li Mei", dt.date(1990, 5, 17), "F")
        trip.join(pool, "child", "Li Xiaoming", dt.date(2018, 3, 2), "M")

        trip.go("/wallet/top-up/")
        page.fill("input[name=amount]", "100.00")
        trip.submit()

        trip.go("/claims/new/")
        mine = Membership.objects.get(
            person__account__username=username, person__relationship="self"
        )
        page.select_option("select[name=membership]", str(mine.pk))
        page.select_option("select[name=condition]", index=1)
        page.select_option("select[name=cause]", "accident")  # covered from the first day
        page.fill("input[name=diagnosis_date]", mine.pool.today().isoformat())
        page.fill("input[name=hospital]", "First Hospital of Hangzhou")
        page.fill("input[name=province]", "Zhejiang")
        page.set_input_files("input[name=file]", str(scan))
        page.locator("button[name=submit]").click()
        trip.check()
        claim = Claim.objects.get(membership=mine)
        assert claim.status == Claim.Status.SUBMITTED

    with browser_page(locale=LOCALES[language]) as page:
        log_in(page, f"{base}/admin/login/?next=/admin/", "investigator")
        take_action(page, base, claim, "assign")
        take_action(page, base, claim, "report", "Accident confirmed by the hospital records.")
        Journey(page, base, language).check()  # the reviewers' admin page, in their language
    with browser_page(locale=LOCALES[language]) as page:
        log_in(page, f"{base}/admin/login/?next=/admin/", "adjudicator")
        take_action(page, base, claim, "approve")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PUBLIC_NOTICE

    close_ended_notices(now=claim.notice_ends_at + dt.timedelta(minutes=1))  # the beat task
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED

    with browser_page(locale=LOCALES[language]) as page:
        log_in(page, f"{base}/admin/login/?next=/admin/", operator.username)
        page.goto(f"{base}/admin/apportionment/batch/")
        page.locator(f"a[href$='/apportion/{pool.pk}/']").click()
        page.locator("#batch-preview").wait_for()
        Journey(page, base, language).check()
        page.locator("main form input[type=submit], #content form input[type=submit]").first.click()
        wait_for(
            lambda: (
                Batch.objects.filter(pool=pool, status=Batch.Status.PUBLISHED)
                .exclude(merkle_root="")
                .exists()
            ),
            timeout=60,
            message="the batch published by the worker, with its root",
        )
    batch = Batch.objects.get(pool=pool)
    assert batch.participants == 42 and batch.merkle_root  # 40 others, Mei and her child

    with browser_page(locale=LOCALES[language]) as page:
        trip = Journey(page, base, language)
        log_in(page, f"{base}/login/", username)
        trip.go("/charges/")
        mine_charge = Charge.objects.get(batch=batch, membership=mine)
        assert f"#{batch.pk}" in page.inner_text("main")
        with page.expect_download() as download:
            page.locator(f"a[href$='/reports/{batch.pk}/proof.json']").first.click()
        proof = tmp_path / "proof.json"
        download.value.save_as(proof)
        page.locator("a[href$='/statement/']").first.click()  # the charges page links it
        trip.check()
        assert f"#{batch.pk}" in page.inner_text("main")
        with page.expect_download() as download:
            page.locator("a[href*='/statement/pdf/']").click()
        statement = tmp_path / "statement.pdf"
        download.value.save_as(statement)
        trip.go(f"/reports/{batch.pk}/")
        root = page.inner_text("#merkle-root").strip()
        total = page.inner_text("#merkle-total").strip()
        # The operator announces the pool's closing: the member sees the banner (SPEC 11).
        announce_wind_down(pool=pool, actor=operator, via=WindDown.Via.ADMIN)
        trip.go("/dashboard/")
        banner = {"en": "This pool is closing.", "zh-hans": "该计划即将关闭。"}[language]
        assert banner in page.inner_text(f"#closing-{pool.slug}")
        trip.go("/")
        assert banner in page.inner_text("main")
    assert root == batch.merkle_root and total == str(batch.merkle_total_cents)
    checked = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "verify_charge.py"), str(proof), root, total],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert str(mine_charge.amount_cents) in proof.read_text()
    text = "\n".join(p.extract_text() for p in PdfReader(statement).pages)
    title = {"en": "Statement for", "zh-hans": "年对账单"}[language]
    assert title in text and "Li Mei" in text and cents(mine_charge.amount_cents) in text
