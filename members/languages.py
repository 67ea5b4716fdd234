"""The language each account is written to in: the one its member last used on the site."""

from django.conf import settings
from django.utils import translation
from django.utils.functional import empty

from members.models import AccountSettings

SESSION_KEY = "members.language"


def language_of(account_id: int) -> str:
    """The account's language (the site's default until it has used one)."""
    chosen = (
        AccountSettings.objects.filter(account_id=account_id)
        .values_list("language", flat=True)
        .first()
    )
    return chosen or settings.LANGUAGE_CODE


def in_language_of(account_id: int, message) -> str:
    """A message (a lazy translation, or a function that composes one) in the account's
    language."""
    with translation.override(language_of(account_id)):
        return str(message() if callable(message) else message)


def in_every_language(message, *, limit: int = 300) -> str:
    """A message (as for `in_language_of`) in each of the site's languages, joined: for a text
    written once for many accounts at a time (notify_many)."""
    texts = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts.append(str(message() if callable(message) else message))
    return " / ".join(texts)[:limit]


class RememberLanguageMiddleware:
    """After a signed-in member's page, remember the page's language for their account: one
    write when it changes (the session says which was last saved), none otherwise, and never
    a query on a page that did not load the user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or getattr(user, "_wrapped", empty) is empty or not user.is_authenticated:
            return response
        language = translation.get_language_from_path(request.path_info) or getattr(
            request, "LANGUAGE_CODE", settings.LANGUAGE_CODE
        )
        if language in dict(settings.LANGUAGES) and request.session.get(SESSION_KEY) != language:
            AccountSettings.objects.bulk_create(  # one upsert
                [AccountSettings(account=user, language=language)],
                update_conflicts=True,
                unique_fields=["account"],
                update_fields=["language"],
            )
            request.session[SESSION_KEY] = language
        return response


def remember_at_login(sender, request, user, **kwargs):
    """The session starts knowing the account's language, so pages in it write nothing."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = language_of(user.pk)
