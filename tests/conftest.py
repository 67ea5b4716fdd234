"""Shared fixtures. Tests run on real PostgreSQL and Redis: no silent SQLite fallback."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.utils import translation

from mutualaid.management.commands import seed_demo
from tests.claims.helpers import staff
from tests.factories import PoolFactory

ROOT = Path(__file__).resolve().parent.parent
# Worker logs and screenshots of a run: kept for a look after it, never in the project's var/.
ARTIFACTS = Path(tempfile.gettempdir()) / "mutualaid-tests"
# Every task a test enqueues goes to this run's own queues, removed when the run ends: a
# developer's worker on the same Redis never runs a test's leftover message.
RUN_QUEUE = f"test-{os.getpid()}"


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.postgresql" and not os.environ.get("ALLOW_SQLITE_TESTS"):
        raise pytest.UsageError(
            "Tests need PostgreSQL: set DATABASE_URL (bin/test does) — refusing to fall back "
            f"to {engine}."
        )
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        raise pytest.UsageError("Tests need Redis: set REDIS_URL (bin/test does).")
    # Every test reads the primary (a replica sees only committed rows), and so do the servers
    # and workers tests start (their replica URL would name the primary's database, not the
    # test one): the router's own tests (tests/test_replica.py) turn replica reads on.
    settings.REPLICA_READS = False
    os.environ["REPLICA_READS"] = "false"


def pytest_collection_modifyitems(items):
    """A test that starts a real worker (through `worker_env`) carries the marker, so
    `-m "not celery_worker"` leaves out every one of them without anyone remembering to mark."""
    for item in items:
        if "worker_env" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.celery_worker)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings, tmp_path):
    """No collectstatic manifest in tests; evidence goes to a throwaway folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EVIDENCE_ROOT = tmp_path / "evidence"
    settings.MEDIA_ROOT = settings.EVIDENCE_ROOT


@pytest.fixture(autouse=True)
def _demo_logins_elsewhere(monkeypatch, tmp_path):
    """A test's demo users are not the developer's: their logins stay out of var/, where bin/run
    shows the file (stale passwords first, after a test run)."""
    monkeypatch.setattr(seed_demo, "LOGINS_FILE", tmp_path / "demo-logins.txt")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached pages live in the caches: no test inherits another's."""
    cache.clear()
    caches["shared"].clear()


@pytest.fixture(autouse=True)
def _english():
    """A request in another language leaves it active in this thread; start each test in English."""
    translation.activate("en")
    yield
    translation.activate("en")


class WorkerProcess:
    """A real `celery worker` subprocess bound to this test run's database and queue."""

    def __init__(self, queue: str, env: dict, concurrency: int = 1):
        self.queue = queue
        self.env = env
        self.concurrency = concurrency
        self.proc = None
        self.log_path = ARTIFACTS / f"test-worker-{queue}.log"

    def start(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mutualaid",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                "--pool=prefork",
                f"--queues={self.queue}",
                "--without-mingle",
                "--without-gossip",
                f"--hostname=test-{self.queue}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{self.log()}")
            if " ready." in self.log():
                return self
            time.sleep(0.2)
        raise RuntimeError(f"celery worker did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self, sig=signal.SIGKILL):
        """Kill the worker and its pool children at once (as a crash would)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_log", None):
            self._log.close()


def wait_for(predicate, timeout=30.0, interval=0.2, message="condition"):
    """Poll until predicate() is truthy; fail the test with `message` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message}")


@pytest.fixture(scope="session", autouse=True)
def _run_queue():
    """Tasks enqueued by any test go to this run's queue; at the end every queue of the run
    (this one and each worker test's) is deleted from the broker with its bindings."""
    import redis

    from mutualaid.celery import app

    settings.CELERY_TASK_DEFAULT_QUEUE = RUN_QUEUE
    app.conf.task_default_queue = RUN_QUEUE
    yield
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for pattern in (f"{RUN_QUEUE}*", f"_kombu.binding*.{RUN_QUEUE}*"):
        keys = list(client.scan_iter(match=pattern))
        if keys:
            client.delete(*keys)
    # A killed worker's message waits in kombu's shared `unacked` table to be restored.
    for tag, value in client.hscan_iter("unacked"):
        _message, exchange, routing_key = json.loads(value)
        if str(routing_key or exchange).startswith(RUN_QUEUE):
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.close()


@pytest.fixture
def celery_queue(settings):
    """A queue name of this test only, so parallel runs and stale messages never mix."""
    queue = f"{RUN_QUEUE}-{time.monotonic_ns()}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    from mutualaid.celery import app

    app.conf.task_default_queue = queue
    yield queue
    app.conf.task_default_queue = RUN_QUEUE


@pytest.fixture
def worker_env(transactional_db, celery_queue):
    """Environment for a worker subprocess pointing at the test database (committed data)."""
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{db['USER'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}"
    )
    env["REDIS_URL"] = settings.CELERY_BROKER_URL
    env["CELERY_QUEUE"] = celery_queue
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@pytest.fixture
def celery_worker_process(worker_env, celery_queue):
    """Start a real worker; tests using it must use committed data (transactional_db)."""
    workers = []

    def start(concurrency=1):
        worker = WorkerProcess(celery_queue, worker_env, concurrency).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def pool(db):
    """A pool with the demo's rules: 8 % fee, annual cap 188.00."""

    return PoolFactory(fee_rate_bp=800, annual_cap_cents=18_800)


@pytest.fixture
def people(db):
    return {
        "inv": staff("inv", "investigators"),
        "inv2": staff("inv2", "investigators"),
        "adj": staff("adj", "adjudicators"),
        "adj2": staff("adj2", "adjudicators"),
    }


@pytest.fixture
def mail_dir(tmp_path, worker_env):
    folder = tmp_path / "mail"
    folder.mkdir()
    # django-environ drops one leading slash of the path: four slashes give an absolute one
    worker_env["EMAIL_URL"] = f"filemail:///{folder}"
    return folder
