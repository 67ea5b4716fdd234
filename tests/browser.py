"""Playwright driving Debian's chromium (never a downloaded browser)."""

import contextlib
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


@contextlib.contextmanager
def browser_page(viewport=PHONE, locale="en-US", **context_options):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(viewport=viewport, locale=locale, **context_options)
            yield context.new_page()
        finally:
            browser.close()
            _close_this_contexts_connections()


def _close_this_contexts_connections():
    """Playwright's sync API runs an event loop here, so ORM calls made inside the block got
    database connections of their own (Django keeps them per async context). Close them: left
    open they hold the test database and go stale if PostgreSQL restarts (tests/faults)."""
    from django.core.exceptions import SynchronousOnlyOperation
    from django.db import connections

    try:
        connections.close_all()
    except SynchronousOnlyOperation:
        pass  # no ORM use was allowed in this block, so it opened no connection
