"""Rate limits: DRF's throttles, for API views and plain Django views alike.

The rate of a scope is REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]; the counter is kept in
the cache per user (per address when anonymous) and scope, so the web form and the API of the
same action share one budget. Signup and log-in budgets are kept per address whoever asks: one
address spraying passwords over many usernames runs out, however few tries each username gets
(django-axes still locks a username at an address after a few failures).
"""

import math
from functools import wraps
from types import SimpleNamespace

from axes.helpers import get_cool_off
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

CREATE = "create"
SIGNUP = "signup"
LOGIN = "login"
TOO_MANY = 429
TOO_MANY_MESSAGE = _("Too many requests: please try again later.")
LOGIN_BUDGET_MESSAGE = _("Too many log-in attempts from your address: please try again later.")
LOCKED_MESSAGE = _("This account is locked after too many failed log-ins: please try again later.")


class AddressRateThrottle(ScopedRateThrottle):
    """A scope's rate counted per client address, signed in or not."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def default_throttles():
    """The settings' throttles (anonymous and user rates), for views that add their own."""
    return [throttle() for throttle in api_settings.DEFAULT_THROTTLE_CLASSES]


def creation_throttles(creating: bool):
    """For an API view's get_throttles(): the default throttles, and the 'create' budget when
    the request creates."""
    return default_throttles() + ([ScopedRateThrottle()] if creating else [])


def refused_for(request, scope=CREATE, throttle=ScopedRateThrottle) -> int | None:
    """Count this request against the scope's rate: None while the rate allows it, else the
    seconds until it will (the answer's Retry-After)."""
    counter = throttle()
    if counter.allow_request(request, SimpleNamespace(throttle_scope=scope)):
        return None
    return max(1, math.ceil(counter.wait() or 1))


def allow(request, scope=CREATE, throttle=ScopedRateThrottle) -> bool:
    """Count this request against the scope's rate; False once the rate is used up."""
    return refused_for(request, scope, throttle) is None


def creation_refused(request, form) -> bool:
    """A creating form's POST spends the member's 'create' budget, the one the API's creations
    spend too. Once it is used up the form carries the refusal (answer 429) and must not save."""
    if request.method != "POST" or allow(request):
        return False
    form.add_error(None, TOO_MANY_MESSAGE)
    return True


def too_many(request, message=TOO_MANY_MESSAGE, retry_after: int | None = None):
    response = render(request, "429.html", {"message": message}, status=TOO_MANY)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def lockout_seconds() -> int | None:
    """How long django-axes keeps a username locked at an address (its cool-off): the
    Retry-After of a locked answer, an upper bound of what is left of it (None: for good)."""
    cool_off = get_cool_off()
    return math.ceil(cool_off.total_seconds()) if cool_off else None


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked log-in (AXES_LOCKOUT_CALLABLE): the site's page in the
    member's language with Retry-After, where axes answered a line of English text."""
    return too_many(request, LOCKED_MESSAGE, retry_after=lockout_seconds())


def posts_limited(scope):
    """A page whose every POST spends its address's budget of `scope` (signup)."""

    def decorate(view):
        @wraps(view)
        def limited(request, *args, **kwargs):
            if request.method == "POST":
                wait = refused_for(request, scope, AddressRateThrottle)
                if wait is not None:
                    return too_many(request, retry_after=wait)
            return view(request, *args, **kwargs)

        return limited

    return decorate


class LoginBudgetBackend:
    """An authentication backend that authenticates nobody: every log-in attempt with a request
    (log-in page, admin, API token) spends its address's 'login' budget; once it is spent the
    attempt stops here, before any password is checked. The request is marked so the answer
    says why (LoginBudgetMiddleware, the token view)."""

    def authenticate(self, request, **credentials):
        if request is None:
            return None
        wait = refused_for(request, LOGIN, AddressRateThrottle)
        if wait is not None:
            getattr(request, "_request", request).login_budget_wait = wait
            raise PermissionDenied
        return None  # no get_user(): no session ever names this backend


def login_budget_wait(request) -> int | None:
    """The seconds until the address may try to log in again, if its budget is spent."""
    return getattr(getattr(request, "_request", request), "login_budget_wait", None)


class LoginBudgetMiddleware:
    """A page whose log-in attempt was stopped by the address's budget answers 429 and says so
    (not "wrong password")."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        wait = login_budget_wait(request)
        if wait is not None and not request.path.startswith("/api/"):
            return too_many(request, LOGIN_BUDGET_MESSAGE, retry_after=wait)
        return response
