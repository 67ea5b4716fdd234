"""The layout around a page's content (header, navigation, language form, footer), rendered
once per process and reused, with the per-request parts filled in for every request.

A page template that only wraps `{{ content }}` in base.html (pools/home.html,
members/dashboard.html, notice/board.html, reports/index.html) depends, apart from its content,
only on the language, on whether someone is signed in (the navigation), on the URL
configuration, and on three per-request parts: the CSRF token (a fresh mask of the request's
secret, django.middleware.csrf.get_token), the path the language form returns to, and the
messages. The layout is rendered with a stand-in for each per-request part, split at the
stand-ins, and joined with the request's own values: the result is the page the template
renders for this request.

The stand-in user and request refuse everything else: a layout that reads anything more of the
user or the request (a name, a permission, a header) fails at once instead of being shown to
someone else. With DEBUG on (templates edited while the server runs) it is rendered every time.
"""

import re
import secrets

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

# Stand-ins that no translation or content contains: random per process.
_MARK = f"layout{secrets.token_hex(8)}"
CONTENT, CSRF, PATH, MESSAGES = (f"{_MARK}{name}" for name in ("content", "csrf", "path", "msgs"))
_SPLIT = re.compile(f"({_MARK}(?:content|csrf|path|msgs))")
MAX_LAYOUTS = 256

_layouts: dict = {}


@receiver(setting_changed)
def _forget_layouts(**kwargs):
    """A changed setting (tests) may change a layout (static URLs, languages): render anew."""
    _layouts.clear()


class _Refused:
    def __init__(self, what, allowed):
        self._what = what
        self._allowed = allowed

    def __getattr__(self, name):
        if name in self._allowed:
            return self._allowed[name]
        raise ImproperlyConfigured(
            f"A cached layout may not read {self._what}.{name}: it is the same for everyone "
            "of one language and sign-in state."
        )


def _stand_ins(request):
    signed_in = request.user.is_authenticated
    user = _Refused("user", {"is_authenticated": signed_in, "is_anonymous": not signed_in})
    return {
        "content": mark_safe(CONTENT),
        "csrf_token": CSRF,
        "messages_slot": mark_safe(MESSAGES),
        "messages": (),
        "request": _Refused("request", {"get_full_path": lambda: PATH}),
        "user": user,
        "perms": _Refused("perms", {}),
    }


def _parts(request, template):
    key = (
        template,
        get_language(),
        request.user.is_authenticated,
        get_script_prefix(),
        get_urlconf(),
    )
    parts = _layouts.get(key)
    if parts is None:
        html = render_to_string(template, _stand_ins(request), request)
        parts = tuple(
            part if index % 2 else part.encode() for index, part in enumerate(_SPLIT.split(html))
        )
        if parts.count(CONTENT) != 1:
            raise ImproperlyConfigured(f"{template} must show {{{{ content }}}} exactly once.")
        if not settings.DEBUG:
            if len(_layouts) >= MAX_LAYOUTS:
                _layouts.clear()
            _layouts[key] = parts
    return parts


def _value(part, request, content) -> bytes:
    if part == CONTENT:
        return content
    if part == CSRF:
        return get_token(request).encode()
    if part == PATH:
        return escape(request.get_full_path()).encode()
    messages = get_messages(request)  # as {% if messages %} does: read, marked used if shown
    return render_to_string("_messages.html", {"messages": messages}).encode() if messages else b""


def render_page(request, template, content: bytes, status=200) -> HttpResponse:
    """`template` (base.html around `{{ content }}`) for this request, the page `render` gives:
    `content` is the page's own HTML in UTF-8 (mutualaid.pagecache.render_cached), each
    per-request part is worked out once (one CSRF token for every form, as `render` does)."""
    parts = _parts(request, template)
    values = {}
    html = []
    for index, part in enumerate(parts):
        if index % 2:
            if part not in values:
                values[part] = _value(part, request, content)
            part = values[part]
        html.append(part)
    return HttpResponse(b"".join(html), status=status)
