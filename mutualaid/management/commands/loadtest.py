"""Load test on loopback: gunicorn + wrk, our pages next to a bare "hello" view.

    python manage.py loadtest --seconds 15 --connections 32

Starts gunicorn (2 workers, this settings module, persistent DB connections) on 127.0.0.1,
signs a demo member in by creating a session row, runs wrk against each page for a bounded
time and prints requests/s and p50/p95/p99 latency, with each page's share of hello's throughput.
Traffic goes only to 127.0.0.1.

The path `POST:/api/v1/claims/` files claims: another demo member (--filer, bob), with an API
token, posts draft claims on one of their memberships (each one a real row through the claims
service). Not the member whose pages are measured: every run files a thousand or more drafts,
and the dashboard lists its member's claims, so filing as that member made each run measure a
bigger dashboard than the last (about 100 kB more per run). The creation limit (30 an hour
per member) would turn all but the first into 429s, so this run's gunicorn alone gets
CREATE_RATE=1000000/hour (and as high a USER_RATE, the rate of every API request of a member):
the limits are still counted, never reached.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rest_framework.authtoken.models import Token

from members.models import Membership
from mutualaid import auth
from pools.models import Condition

WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
           latency:percentile(50), latency:percentile(95), latency:percentile(99), errors))
end
"""
CLAIM_POST = """
wrk.method = "POST"
wrk.headers["Authorization"] = "Token %(token)s"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"membership": %(membership)d, "condition": "%(condition)s", "cause": "illness", '
    .. '"diagnosis_date": "%(diagnosed)s", "hospital": "Load test hospital", '
    .. '"province": "Zhejiang", "submit": false}'
"""
CLAIMS = "POST:/api/v1/claims/"
RESULT = re.compile(r"^RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", re.M)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Command(BaseCommand):
    help = "Load-test the main pages under gunicorn with wrk on loopback, next to a hello view."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=int, default=15)
        parser.add_argument("--connections", type=int, default=32)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--user", default="alice", help="demo member to sign in as")
        parser.add_argument("--filer", default="bob", help="demo member who files the claims")
        parser.add_argument(
            "--paths",
            default=f"/bench/hello,/,/dashboard/,/notice/,/reports/,{CLAIMS}",
            help="comma-separated paths; the first is the baseline",
        )

    def handle(self, *args, **opts):
        if not shutil.which("wrk"):
            raise CommandError("wrk is not installed (Debian: apt-get install wrk).")
        if not 1 <= opts["seconds"] <= 600:
            raise CommandError("--seconds must be between 1 and 600.")
        user = self.demo_user(opts["user"])
        cookie = self.session_cookie(user)
        self.claim_post = ""
        if CLAIMS in opts["paths"]:
            self.claim_post = CLAIM_POST % self.claim_fields(self.demo_user(opts["filer"]))
        port = free_port()
        server = self.start_gunicorn(port, opts["workers"])
        try:
            rows = []
            for path in opts["paths"].split(","):
                rows.append((path, *self.run_wrk(port, path, cookie, opts)))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        self.report(rows, opts)

    def demo_user(self, username):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}: run `manage.py seed_demo` first.")
        return user

    def session_cookie(self, user) -> str:
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = auth.PATH
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    def claim_fields(self, user) -> dict:
        membership = Membership.objects.filter(person__account=user).order_by("pk").first()
        condition = Condition.objects.order_by("pk").first()
        if membership is None or condition is None:
            raise CommandError(f"{user.username} has no membership to claim on: run seed_demo.")
        token, _ = Token.objects.get_or_create(user=user)
        return {
            "token": token.key,
            "membership": membership.pk,
            "condition": condition.code,
            "diagnosed": timezone.localdate().isoformat(),
        }

    def start_gunicorn(self, port: int, workers: int):
        env = dict(os.environ, DEBUG="false", CREATE_RATE="1000000/hour", USER_RATE="1000000/hour")
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "mutualaid.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
        server = subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                return server
            except OSError:
                time.sleep(0.3)
        os.killpg(server.pid, signal.SIGKILL)
        raise CommandError("gunicorn did not answer /healthz within 30 s.")

    def run_wrk(self, port, path, cookie, opts):
        posting = path == CLAIMS
        if posting:
            path = path.removeprefix("POST:")
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write((self.claim_post if posting else "") + WRK_REPORT)
        try:
            # Warm up each worker's connection and caches, then measure.
            for _ in range(0 if posting else 5):
                urllib.request.urlopen(
                    urllib.request.Request(
                        f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie}
                    ),
                    timeout=10,
                ).read()
            result = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{opts['connections']}",
                    f"-d{opts['seconds']}s",
                    "--timeout",
                    "10s",
                    "-s",
                    script.name,
                    "-H",
                    f"Cookie: {cookie}",
                    f"http://127.0.0.1:{port}{path}",
                ],
                capture_output=True,
                text=True,
                timeout=opts["seconds"] + 60,
            )
        finally:
            Path(script.name).unlink()
        match = RESULT.search(result.stdout)
        if not match:
            raise CommandError(f"wrk gave no result for {path}:\n{result.stdout}{result.stderr}")
        requests, duration_us, p50, p95, p99, errors = map(int, match.groups())
        return requests / (duration_us / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, errors

    def report(self, rows, opts):
        self.stdout.write(
            f"{opts['connections']} connections, {opts['seconds']} s per path, "
            f"gunicorn {opts['workers']} workers, "
            f"database {settings.DATABASES['default']['ENGINE']}, "
            f"shared cache {settings.CACHES['shared']['BACKEND']}"
        )
        self.stdout.write(
            f"{'path':<22}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
            f"{'of hello':>10}"
        )
        baseline = rows[0][1] or 1
        for path, rps, p50, p95, p99, errors in rows:
            self.stdout.write(
                f"{path:<22}{rps:>9.0f}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{errors:>8}"
                f"{rps / baseline:>9.0%}"
            )
