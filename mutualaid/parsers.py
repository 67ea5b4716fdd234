"""The API's request parsers (DEFAULT_PARSER_CLASSES): no input gets a 5xx."""

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "too_large"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with Django's body size limit (DRF reads the stream itself, around
    DATA_UPLOAD_MAX_MEMORY_SIZE), a 400 for nesting too deep for Python's parser (a
    RecursionError, which DRF lets through as a 500) and a 400 for text with NUL characters,
    which PostgreSQL cannot store or compare (a lookup by such a slug was a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if limit is not None and length and length.isdigit() and int(length) > limit:
            raise RequestTooLarge()
        try:
            data = super().parse(stream, media_type, parser_context)
            has_nul = _has_nul(data)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        if has_nul:
            raise ParseError("JSON parse error - text may not contain NUL characters.")
        return data


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
