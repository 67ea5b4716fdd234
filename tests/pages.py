"""Every page of the demo, as the user who sees it: the walk shared by the page-wide tests
(no raw internal names, phone width)."""

import re
from html.parser import HTMLParser
from pathlib import Path

from apportionment.models import Batch
from claims.models import Claim
from notice.models import Juror
from pools.models import Pool

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
LANGUAGES = ("", "/zh-hans")  # English (no prefix) and Simplified Chinese


def public_pages() -> list[str]:
    pages = ["/", "/notice/", "/reports/", "/login/", "/signup/"]
    pages += [f"/pools/{slug}/rules/" for slug in Pool.objects.values_list("slug", flat=True)]
    pages += [f"/notice/{pk}/" for pk in notice_claims()]
    pages += [
        f"/reports/{pk}/"
        for pk in Batch.objects.filter(status__in=Batch.PUBLIC_STATUSES).values_list(
            "pk", flat=True
        )[:3]
    ]
    return pages


def notice_claims():
    return Claim.objects.filter(
        status__in=[Claim.Status.PUBLIC_NOTICE, Claim.Status.PANEL_REVIEW]
    ).values_list("pk", flat=True)


def member_pages(username: str) -> list[str]:
    pages = [
        "/dashboard/",
        "/join/",
        "/claims/new/",
        "/charges/",
        "/statement/",
        "/wallet/top-up/",
        "/wallet/payback/",
        "/panel/volunteer/",
    ]
    pages += [
        f"/claims/{pk}/"
        for pk in Claim.objects.filter(claimant__username=username).values_list("pk", flat=True)
    ]
    pages += [
        f"/panel/{pk}/"
        for pk in Juror.objects.filter(user__username=username).values_list("panel_id", flat=True)
    ]
    return pages


def staff_pages() -> list[str]:
    pages = [
        "/admin/",
        "/admin/claims/claim/",
        "/admin/apportionment/batch/",
        "/admin/members/membership/",
        "/admin/pools/pool/",
        "/admin/pools/winddown/",
        "/admin/claims/sponsoredscheme/add/",
    ]
    pages += [
        f"/admin/claims/claim/{pk}/change/"
        for pk in Claim.objects.exclude(status=Claim.Status.PAID).values_list("pk", flat=True)
    ]
    pages += [
        f"/admin/claims/claim/{pk}/change/"
        for pk in Claim.objects.filter(status=Claim.Status.PAID).values_list("pk", flat=True)[:2]
    ]
    pages += [
        f"/admin/apportionment/batch/{pk}/change/"
        for pk in Batch.objects.values_list("pk", flat=True)[:3]
    ]
    pages += [
        f"/admin/apportionment/batch/apportion/{pk}/"
        for pk in Pool.objects.values_list("pk", flat=True)
    ]
    return pages


MEMBERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "henry")


def walk():
    """(username or None, path) for every page of the demo, in both languages."""
    visits = [(None, page) for page in public_pages()]
    for username in MEMBERS:
        visits += [(username, page) for page in member_pages(username)]
    visits += [("admin", page) for page in staff_pages()]
    return [(user, prefix + page) for prefix in LANGUAGES for user, page in visits]


class VisibleText(HTMLParser):
    """The text a person reads: text nodes outside script/style/template, button captions,
    and the values of submit buttons."""

    HIDDEN = {"script", "style", "template", "noscript"}

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "input" and attrs.get("type") in ("submit", "button"):
            self.parts.append(attrs.get("value") or "")
        for name in ("placeholder", "title", "aria-label"):
            if attrs.get(name):
                self.parts.append(attrs[name])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def our_english() -> list[str]:
    """Our messages of three words or more, as they would leak onto a Chinese page."""
    english = []
    for block in PO.read_text(encoding="utf-8").split("\n\n")[1:]:
        match = re.search(r'^msgid "(.+)"$', block, re.M)
        if match and len(match.group(1).split()) >= 3 and "%(" not in match.group(1):
            english.append(match.group(1).replace('\\"', '"'))
    assert len(english) > 50
    return english
