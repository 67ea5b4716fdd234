import re
import subprocess
import sys

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from members.models import Membership
from mutualaid.management.commands import seed_demo
from mutualaid.models import Heartbeat
from mutualaid.tasks import heartbeat
from pools.models import Condition, Pool
from tests.conftest import ROOT, wait_for


@pytest.mark.django_db
def test_roles_exist_with_permissions():
    groups = {g.name: g for g in Group.objects.prefetch_related("permissions")}
    assert {"investigators", "adjudicators", "operators"} <= set(groups)
    codenames = {p.codename for p in groups["investigators"].permissions.all()}
    assert "change_claim" in codenames
    assert "view_heartbeat" in {p.codename for p in groups["operators"].permissions.all()}


@pytest.mark.django_db
def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo", members=200)
    first = capsys.readouterr().out
    assert "admin" in first and "investigator" in first
    assert seed_demo.LOGINS_FILE.read_text().count("alice") == 1  # a test's own file
    counts = (Pool.objects.count(), Condition.objects.count(), Membership.objects.count())
    call_command("seed_demo", members=200)
    assert "nothing changed" in capsys.readouterr().out
    assert counts == (Pool.objects.count(), Condition.objects.count(), Membership.objects.count())
    assert counts[0] == 3 and counts[1] == 100
    statuses = set(Membership.objects.values_list("status", flat=True))
    assert {"waiting", "active", "suspended", "withdrawn", "lapsed", "paid_out"} <= statuses


@pytest.mark.django_db
def test_home_lists_pools_in_both_languages(client):
    call_command("seed_demo", members=200)
    english = client.get("/")
    assert english.status_code == 200
    assert "Critical illness, adults" in english.content.decode()
    assert "300,000.00" in english.content.decode()
    chinese = client.get("/zh-hans/")
    assert chinese.status_code == 200
    body = chinese.content.decode()
    assert "成人大病互助" in body and "互助计划" in body


@pytest.mark.django_db
def test_admin_index_shows_scheduler_status(admin_client):
    response = admin_client.get(reverse("admin:index"))
    body = response.content.decode()
    assert "scheduler-status" in body
    assert "beat looks stopped" in body  # no heartbeat recorded yet
    Heartbeat.objects.create(worker="w@host")
    PeriodicTask.objects.filter(name="heartbeat every minute").update(
        last_run_at=Heartbeat.objects.get().ran_at
    )
    body = admin_client.get(reverse("admin:index")).content.decode()
    assert "looks stopped" not in body and "w@host" in body


def test_heartbeat_runs_in_a_real_worker(celery_worker_process):
    worker = celery_worker_process()
    heartbeat.delay()
    row = wait_for(lambda: Heartbeat.objects.first(), message="a heartbeat row from the worker")
    assert row.worker.startswith("test-")
    assert "mutualaid.heartbeat" in worker.log()


def test_production_profile_passes_check_deploy():
    env = {
        "DJANGO_SETTINGS_MODULE": "mutualaid.settings_production",
        "SECRET_KEY": "x9!" + "k" * 20 + "Q7#z" + "m" * 30 + "v2@",
        "ALLOWED_HOSTS": "mutualaid.example.org",
        "PROOF_SALT_KEY": "p" * 40,
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    # the Merkle salts' key has no default in production
    del env["PROOF_SALT_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "PROOF_SALT_KEY" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/admin/login/", "/api/docs/"])
def test_pages_send_a_csp_without_inline_scripts(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'self'" in script_src
    body = response.content.decode()
    # every <script> has a src: nothing inline for the policy to allow
    for tag in re.findall(r"<script\b[^>]*>", body):
        assert "src=" in tag, tag


@pytest.mark.django_db
def test_unknown_api_url_answers_json_404(client):
    response = client.get("/api/v1/conditions/.%06/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert "text/html" in client.get("/no-such-page/")["Content-Type"]
