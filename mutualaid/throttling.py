"""Creation rate limits: DRF's scoped throttle, for API views and plain Django views alike.

The rate of a scope is REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]; the counter is kept per
user (per address when anonymous) and scope in the cache, so the web form and the API of the
same action share one budget.
"""

from types import SimpleNamespace

from rest_framework.throttling import ScopedRateThrottle

CREATE = "create"


def creation_throttles(creating: bool):
    """For an API view's get_throttles(): the 'create' throttle when the request creates."""
    return [ScopedRateThrottle()] if creating else []


def allow(request, scope=CREATE) -> bool:
    """Count this request against the scope's rate; False once the rate is used up."""
    return ScopedRateThrottle().allow_request(request, SimpleNamespace(throttle_scope=scope))
