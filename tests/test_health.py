"""The container's health probe passes under the production settings (plain HTTP, any host)."""

import pytest


@pytest.mark.django_db
def test_healthz_answers_the_probe_under_production_settings(client, settings):
    settings.ALLOWED_HOSTS = ["example.org"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    probe = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert probe.status_code == 200 and probe.json() == {"status": "ok"}
    # Everything else still gets the host check and the redirect.
    assert client.get("/", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get("/", HTTP_HOST="example.org").status_code == 301
