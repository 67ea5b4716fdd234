"""Viewsets of this app, registered on mutualaid.api.router."""

from mutualaid.api import router  # noqa: F401
