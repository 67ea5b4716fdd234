"""A Python client generated from /api/schema/ (openapi-python-client, pinned in the dev extras)
walks the member journey against the live server, used exactly as generated: token, pools,
join (a person, a membership), wallet top-up, a claim draft with evidence, charges, a batch and
the member's proof. The schema is what clients trust; this fails where it lies.
"""

import datetime as dt
import importlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from members.identity import make_identity_number
from reports.services import store_root
from tests.claims.helpers import PDF

PASSWORD = "generated-client-walks-1"


def generate(base_url, folder: Path) -> Path:
    """The client package, generated from the live server's schema into `folder`."""
    schema = folder / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(schema))
    tool = Path(sys.executable).parent / "openapi-python-client"
    if not tool.exists():
        pytest.fail("openapi-python-client is missing: run bin/setup --dev")
    env = dict(os.environ, PATH=f"{tool.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    subprocess.run(
        [str(tool), "generate", "--path", str(schema), "--meta", "none", "--output-path",
         str(folder / "mutualaid_client")],
        check=True, capture_output=True, env=env, cwd=folder, timeout=120,
    )  # fmt: skip
    return folder


@pytest.fixture
def client_package(tmp_path, live_server):
    folder = generate(live_server.url, tmp_path)
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("mutualaid_client")
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n.split(".")[0] == "mutualaid_client"]:
            del sys.modules[name]
        shutil.rmtree(folder, ignore_errors=True)


def test_the_member_journey_with_a_generated_client(live_server, transactional_db, client_package):
    call_command("seed_demo", stdout=io.StringIO())
    alice = get_user_model().objects.get(username="alice")
    alice.set_password(PASSWORD)
    alice.save()

    auth = importlib.import_module("mutualaid_client.api.auth.auth_token_create")
    models = importlib.import_module("mutualaid_client.models")
    types = importlib.import_module("mutualaid_client.types")
    anonymous = client_package.Client(base_url=live_server.url, raise_on_unexpected_status=True)

    def call(name, **kwargs):
        module = importlib.import_module(f"mutualaid_client.api.v1.{name}")
        response = module.sync_detailed(client=member, **kwargs)
        assert 200 <= response.status_code < 300, (name, response.status_code, response.content)
        return response.parsed

    # token: anonymous, the answer read as the model says (no credentials in it)
    answer = auth.sync(
        client=anonymous, body=models.CredentialsRequest(username="alice", password=PASSWORD)
    )
    assert isinstance(answer, models.Token) and answer.token
    wrong = auth.sync_detailed(
        client=anonymous, body=models.CredentialsRequest(username="alice", password="wrong")
    )
    assert wrong.status_code == 400 and isinstance(wrong.parsed, models.Error)
    member = client_package.AuthenticatedClient(
        base_url=live_server.url, token=answer.token, prefix="Token",
        raise_on_unexpected_status=True,
    )  # fmt: skip

    # pools, then join: a person and a membership
    pools = call("v1_pools_list").results
    pool = next(p for p in pools if p.is_open is not False)
    born = dt.date(1991, 4, 2)
    person = call(
        "v1_persons_create",
        body=models.PersonRequest(
            relationship=models.RelationshipEnum.SPOUSE,
            full_name="Wang Fang",
            sex=models.SexEnum.F,
            birth_date=born,
            identity_number=make_identity_number("330102", born, 2),
            province="Zhejiang",
        ),
    )
    membership = call(
        "v1_memberships_create",
        body=models.MembershipRequest(
            person=person.id, pool=pool.slug, declaration_accepted=True, rules_accepted=True
        ),
    )
    assert membership.person == person.id
    mine = call("v1_memberships_list").results  # write-only fields are not asked of answers
    assert membership.id in [m.id for m in mine]

    # wallet top-up
    before = call("v1_wallet_retrieve").balance_cents
    wallet = call("v1_wallet_create", body=models.TopUpRequest(amount_cents=5_000))
    assert wallet.balance_cents == before + 5_000

    # a claim draft on an active membership, with evidence
    active = next(m for m in mine if m.status == models.MembershipStatusEnum.ACTIVE)
    condition = call("v1_conditions_list").results[0]
    claim = call(
        "v1_claims_create",
        body=models.ClaimRequest(
            membership=active.id,
            condition=condition.code,
            diagnosis_date=dt.date.today() - dt.timedelta(days=5),
            hospital="People's Hospital",
            province="Zhejiang",
            submit=False,
        ),
    )
    assert claim.status == models.ClaimStatusEnum.DRAFT
    scan = types.File(payload=io.BytesIO(PDF), file_name="scan.pdf", mime_type="application/pdf")
    upload = models.EvidenceRequest(file=scan)
    evidence = call("v1_claims_evidence_create", id=claim.id, body=upload)
    assert [e.original_name for e in evidence] == ["scan.pdf"]

    # charges, their batch and the member's proof
    charges = call("v1_charges_list").results
    assert charges, "the demo member has charges"
    batch = call("v1_batches_retrieve", id=charges[0].batch)
    assert batch.merkle_root == "" and call("v1_batches_proof_retrieve", id=batch.id).proofs == []
    store_root(batch.id)  # what a worker does after the demo's publication: now it proves
    proof = call("v1_batches_proof_retrieve", id=batch.id)
    assert proof.batch_id == batch.id and all(p.leaf and p.path for p in proof.proofs)
    in_batch = {(c.membership, c.amount_cents) for c in charges if c.batch == batch.id}
    assert {(p.membership_id, p.amount_cents) for p in proof.proofs} == in_batch
