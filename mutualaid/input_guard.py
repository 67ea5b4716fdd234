"""Refuse, before any view or django-axes sees them, two kinds of input no page accepts:

- a NUL character in the query string or a form field: PostgreSQL cannot store or compare it,
  so a filter such as `?pool=%00` was a 500 (JSON bodies are checked by mutualaid.parsers);
- a username longer than the user table's column on a form post: django-axes records every
  log-in attempt's username in a 255-character column before the form is validated.
"""

from django.contrib.auth import get_user_model
from django.http import HttpResponseBadRequest, JsonResponse

USERNAME_MAX = get_user_model()._meta.get_field("username").max_length


def _refusal(request, message: str):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _has_nul(request.GET):
            return _refusal(request, "Input may not contain NUL characters.")
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            if _has_nul(request.POST):
                return _refusal(request, "Input may not contain NUL characters.")
            if len(request.POST.get("username", "")) > USERNAME_MAX:
                return _refusal(request, f"A username has at most {USERNAME_MAX} characters.")
        return self.get_response(request)


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in data.getlist(key)) for key in data)
