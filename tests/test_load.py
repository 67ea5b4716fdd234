"""The load scenario runs in CI, bounded to a few seconds: gunicorn on loopback, wrk against the
main pages next to a bare hello view, on the demo data, and a member filing claims through the
API. It asserts the run works (every page
answered, no errors) and prints the figures; speed goals are read from docs/benchmarks.md, not
asserted here (a timed test would only measure the CI machine's neighbours)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from claims.models import Claim

pytestmark = pytest.mark.load


def test_load_scenario_runs_and_reports_every_page(transactional_db, monkeypatch, capsys):
    call_command("seed_demo", stdout=io.StringIO())
    db = connection.settings_dict
    # gunicorn reads the database from the environment: point it at this test database.
    monkeypatch.setenv(
        "DATABASE_URL",
        f"postgres://{db['USER'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}",
    )
    out = io.StringIO()
    call_command("loadtest", seconds=2, connections=8, stdout=out)
    report = out.getvalue()
    with capsys.disabled():
        print("\n" + report)
    rows = [line.split() for line in report.splitlines()[2:]]
    paths = ["/bench/hello", "/", "/dashboard/", "/notice/", "/reports/", "POST:/api/v1/claims/"]
    assert [row[0] for row in rows] == paths
    for path, rps, p50, _p95, p99, errors, _share in rows:
        assert float(rps) > 0 and float(p99) >= float(p50), path
        assert errors == "0", f"{path}: {errors} errors under load"
    # the claims were filed for real, through the service (drafts of the filing member, not of
    # the member whose dashboard is measured)
    assert Claim.objects.filter(claimant__username="bob", hospital="Load test hospital").exists()
    assert not Claim.objects.filter(claimant__username="alice", hospital="Load test hospital")
