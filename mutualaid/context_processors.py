from django.urls import NoReverseMatch, reverse
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


def nav(request):
    signed_in = request.user.is_authenticated
    links = []
    for name, label, audience in NAV:
        if (audience == "member" and not signed_in) or (audience == "anonymous" and signed_in):
            continue
        try:
            links.append({"url": reverse(name), "label": label, "name": name})
        except NoReverseMatch:
            continue
    return {"nav_links": links}
