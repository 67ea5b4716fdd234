"""Redis stops while a member submits a claim: the claim is saved, and the email that could not
be queued is handed over again by the outbox sweep once Redis is back. None is lost."""

import datetime as dt
import subprocess
import time
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.urls import reverse

from claims.models import Claim, Notification
from claims.notifications import resend_unsent_emails
from tests.claims.helpers import draft
from tests.conftest import wait_for

pytestmark = pytest.mark.fault


def redis_port() -> int:
    return urlparse(settings.CELERY_BROKER_URL).port or 6379


def redis_answers(port: int) -> bool:
    ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
    return ping.stdout.strip() == "PONG"


def start_redis(port: int):
    """The machine's own start command (see the env notes); Redis keeps nothing on disk."""
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/var/lib/redis",
            "--logfile",
            "/var/log/redis/ci.log",
        ],
        check=True,
    )
    wait_for(lambda: redis_answers(port), timeout=20, message="Redis to answer again")


@pytest.fixture
def redis_stopped():
    port = redis_port()
    if not redis_answers(port):
        pytest.fail(f"Redis on port {port} is not running")
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
    wait_for(lambda: not redis_answers(port), timeout=10, message="Redis to stop")
    try:
        yield port
    finally:
        if not redis_answers(port):
            start_redis(port)


def test_claim_is_saved_and_its_email_sent_once_redis_returns(
    client,
    mail_dir,  # noqa: F811
    celery_worker_process,
    redis_stopped,
):
    claim = draft()
    claim.claimant.email = "claimant@example.org"
    claim.claimant.save()
    client.force_login(claim.claimant)

    started = time.monotonic()
    response = client.post(
        reverse("claim-detail", args=[claim.pk]), {"form": "transition", "action": "submit"}
    )
    assert response.status_code == 302, "the member's request must not fail"
    assert time.monotonic() - started < 15, "the request must not hang on the broker"
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    receipt = Notification.objects.get(recipient=claim.claimant)
    assert receipt.email_queued_at is None and receipt.emailed_at is None

    start_redis(redis_stopped)
    worker = celery_worker_process()
    Notification.objects.filter(pk=receipt.pk).update(
        created_at=receipt.created_at - dt.timedelta(minutes=2)
    )
    assert resend_unsent_emails() == 1  # what the beat task does every minute
    wait_for(lambda: list(mail_dir.iterdir()), timeout=30, message="the email file")
    receipt.refresh_from_db()
    assert receipt.emailed_at is not None
    assert resend_unsent_emails() == 0  # sent: nothing left to hand over
    sent = "".join(p.read_text() for p in mail_dir.iterdir())
    assert sent.count("claimant@example.org") == 1 and f"Claim #{claim.pk}" in sent
    assert "claims.email_notification" in worker.log()
