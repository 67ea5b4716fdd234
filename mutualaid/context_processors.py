from functools import lru_cache

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# (url name, label, who sees it): "all", "member" (signed in) or "anonymous".
NAV = [
    ("join", _("Join"), "member"),
    ("dashboard", _("My dashboard"), "member"),
    ("my-charges", _("My charges"), "member"),
    ("claim-new", _("File a claim"), "member"),
    ("notice", _("Public notice"), "all"),
    ("reports", _("Reports"), "all"),
    ("login", _("Log in"), "anonymous"),
    ("signup", _("Sign up"), "anonymous"),
    ("logout", _("Log out"), "member"),
]


@lru_cache(maxsize=64)
def nav_links(signed_in: bool, language, script_prefix, urlconf) -> tuple:
    """The links for one audience; the same for every request with the same language, script
    prefix and URL conf (which the URLs depend on), so worked out once per process."""
    links = []
    for name, label, audience in NAV:
        if (audience == "member" and not signed_in) or (audience == "anonymous" and signed_in):
            continue
        try:
            links.append({"url": reverse(name, urlconf=urlconf), "label": label, "name": name})
        except NoReverseMatch:
            continue
    return tuple(links)


def nav(request):
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    signed_in = request.user.is_authenticated
    return {"nav_links": nav_links(signed_in, get_language(), get_script_prefix(), urlconf)}
