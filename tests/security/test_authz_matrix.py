"""Authorization matrix: every URL of the web app and every API operation × every actor of SPEC 1.

The rows are generated from the URL conf and the OpenAPI schema: a new URL or operation without
a row here fails `test_every_url_has_a_row` / `test_every_api_operation_has_a_row`.
Django admin model pages are generated from mutualaid.roles.ROLE_PERMISSIONS.
"""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from apportionment import publishing
from claims import services
from claims.models import Claim
from notice import services as notice_services
from notice.models import JuryVolunteer
from tests.apportionment.helpers import approved_claim, run_all_chunks
from tests.factories import ClaimFactory as NoticeClaimFactory
from tests.factories import MembershipFactory, UserFactory

ACTORS = ["anonymous", "member_a", "member_b", "juror", "investigator", "adjudicator", "operator"]
STAFF = {"investigator": "investigators", "adjudicator": "adjudicators", "operator": "operators"}
LOGIN = 302  # redirected to the login page


def everyone(status):
    return dict.fromkeys(ACTORS, status)


def signed_in(status, anonymous=LOGIN):
    return {**everyone(status), "anonymous": anonymous}


# URL name -> expected status per actor (GET). Names with parameters take them from PARAMS.
WEB = {
    "home": everyone(200),
    "healthz": everyone(200),
    "bench-hello": everyone(200),
    "set_language": everyone(302),  # GET without `next` redirects home
    "api-root": signed_in(200, anonymous=401),
    "api-schema": everyone(200),
    "api-docs": everyone(200),
    "api-token": everyone(405),  # POST only
    "admin:index": {**signed_in(302), **dict.fromkeys(STAFF, 200)},
    "admin:login": {**signed_in(200, anonymous=200), **dict.fromkeys(STAFF, 302)},
    "admin:logout": {**signed_in(302), **dict.fromkeys(STAFF, 405)},  # POST only
    "admin:password_change": {**signed_in(302), **dict.fromkeys(STAFF, 200)},
    "admin:password_change_done": {**signed_in(302), **dict.fromkeys(STAFF, 200)},
    "admin:jsi18n": {**signed_in(302), **dict.fromkeys(STAFF, 200)},
}
# Django admin URLs checked per model below, or not GET-able pages of their own.
ADMIN_GENERATED = ("_changelist", "_add", "_change", "_delete", "_history")
SKIPPED = {
    "admin:view_on_site",  # redirect helper with content-type arguments
    "admin:app_list",  # covered by the model pages of each app
    "admin:autocomplete",
}
OWN_ONLY = {**signed_in(404, anonymous=401), "member_a": 200}
OPERATORS_ONLY = {**signed_in(302), **dict.fromkeys(STAFF, 403), "operator": 200}
WEB.update(
    {
        "admin:apportionment_batch_apportion": OPERATORS_ONLY,
        "admin:apportionment_batch_progress": OPERATORS_ONLY,
        "admin:members_membership_import": OPERATORS_ONLY,
        "admin:apportionment_batch_act": {**signed_in(302), **dict.fromkeys(STAFF, 403)},
        "my-charges": signed_in(200),
        "dashboard": signed_in(200),
        "login": everyone(200),
        "signup": everyone(200),
        "logout": everyone(405),  # POST only
        "email-change": signed_in(200),
        "verify-email": signed_in(302),  # a bad link: a message on the dashboard
        "password_change": signed_in(200),
        "password_change_done": signed_in(200),
        "password_reset": everyone(200),
        "password_reset_done": everyone(200),
        "password_reset_confirm": everyone(200),  # a bad link says so
        "password_reset_complete": everyone(200),
        "batch-list": everyone(200),
        "api-wallet": signed_in(200, anonymous=401),
        "pool-list": everyone(200),
        "pool-detail": everyone(200),
        "condition-list": everyone(200),
        "condition-detail": everyone(200),
        "join": signed_in(200),
        "top-up": signed_in(200),
        "withdraw": {**signed_in(404), "member_a": 200},
        "reinstate": {**signed_in(404), "member_a": 302},  # not lapsed: back to the dashboard
        "membership-reinstate": signed_in(405, anonymous=401),
        "membership-list": signed_in(200, anonymous=401),
        "membership-detail": OWN_ONLY,
        "membership-withdraw": signed_in(405, anonymous=401),
        "person-list": signed_in(200, anonymous=401),
        "person-detail": OWN_ONLY,
        "admin:claims_claim_transition": {**signed_in(302), **dict.fromkeys(STAFF, 403)},
        "claim-new": signed_in(200),
        "notice": everyone(200),
        "notice-record": everyone(200),
        "jury-volunteer": signed_in(200),
        "panel": {**signed_in(404), "juror": 200},
        "api-notice": everyone(200),
        "api-claim-objections": everyone(404),  # a draft: answered as an unknown id
        "claim-detail": {**signed_in(404), "member_a": 200},
        "claim-list": signed_in(200, anonymous=401),
        "claim-evidence": OWN_ONLY,
        "claim-transition": signed_in(405, anonymous=401),  # POST only
        "evidence-file": {
            **signed_in(404),
            "member_a": 200,
            "investigator": 200,
            "adjudicator": 200,
        },
        "batch-proof": signed_in(200, anonymous=401),
        "reports": everyone(200),
        "report-detail": everyone(200),
        "report-proof": signed_in(200),
        "batch-detail": everyone(200),
        "charge-list": signed_in(200, anonymous=401),
        "charge-detail": {**signed_in(404, anonymous=401), "member_a": 200},
        # Each caller's own statement (an empty one for who has no charges).
        "statement": signed_in(200),
        "statement-csv": signed_in(200),
        "statement-pdf": signed_in(200),
        "api-statement": signed_in(200, anonymous=401),
        "pool-forecast": everyone(200),
        "pool-rules": everyone(200),
        # The confirmation page; the POST refuses until one of the member's pools has closed.
        "payback": signed_in(200),
    }
)
# URL name (or API operation) -> callable(world) -> kwargs
PARAMS = {
    "verify-email": lambda w: {"token": "not-a-signed-token"},
    "password_reset_confirm": lambda w: {"uidb64": "MQ", "token": "set-password"},
    "admin:apportionment_batch_apportion": lambda w: {"pool_id": w["batch"].pool_id},
    "admin:apportionment_batch_progress": lambda w: {"batch_id": w["batch"].pk},
    "admin:apportionment_batch_act": lambda w: {"batch_id": w["batch"].pk},
    "batch-detail": lambda w: {"pk": w["batch"].pk},
    "batch-proof": lambda w: {"pk": w["batch"].pk},
    "pool-detail": lambda w: {"slug": w["membership"].pool.slug},
    "pool-rules": lambda w: {"slug": w["membership"].pool.slug},
    "GET /api/v1/pools/{slug}/rules/": lambda w: {"slug": w["membership"].pool.slug},
    "pool-forecast": lambda w: {"slug": w["membership"].pool.slug},
    "GET /api/v1/pools/{slug}/forecast/": lambda w: {"slug": w["membership"].pool.slug},
    "condition-detail": lambda w: {"code": w["condition"].code},
    "withdraw": lambda w: {"pk": w["membership"].pk},
    "reinstate": lambda w: {"pk": w["membership"].pk},
    "membership-reinstate": lambda w: {"pk": w["membership"].pk},
    "POST /api/v1/memberships/{id}/reinstate/": lambda w: {"id": w["membership"].pk},
    "membership-detail": lambda w: {"pk": w["membership"].pk},
    "membership-withdraw": lambda w: {"pk": w["membership"].pk},
    "person-detail": lambda w: {"pk": w["membership"].person_id},
    "admin:claims_claim_transition": lambda w: {"pk": w["claim"].pk},
    "claim-detail": lambda w: {"pk": w["claim"].pk},
    "api-claim-objections": lambda w: {"pk": w["claim"].pk},
    "notice-record": lambda w: {"pk": w["panel"].claim_id},
    "panel": lambda w: {"pk": w["panel"].pk},
    "GET /api/v1/claims/{id}/objections/": lambda w: {"id": w["claim"].pk},
    "POST /api/v1/claims/{id}/objections/": lambda w: {"id": w["claim"].pk},
    "claim-evidence": lambda w: {"pk": w["claim"].pk},
    "claim-transition": lambda w: {"pk": w["claim"].pk},
    "evidence-file": lambda w: {"pk": w["evidence"].pk},
    "GET /api/v1/claims/{id}/": lambda w: {"id": w["claim"].pk},
    "GET /api/v1/claims/{id}/evidence/": lambda w: {"id": w["claim"].pk},
    "POST /api/v1/claims/{id}/evidence/": lambda w: {"id": w["claim"].pk},
    "POST /api/v1/claims/{id}/transition/": lambda w: {"id": w["claim"].pk},
    "GET /api/v1/pools/{slug}/": lambda w: {"slug": w["membership"].pool.slug},
    "GET /api/v1/conditions/{code}/": lambda w: {"code": w["condition"].code},
    "GET /api/v1/memberships/{id}/": lambda w: {"id": w["membership"].pk},
    "POST /api/v1/memberships/{id}/withdraw/": lambda w: {"id": w["membership"].pk},
    "GET /api/v1/persons/{id}/": lambda w: {"id": w["membership"].person_id},
    "report-detail": lambda w: {"pk": w["batch"].pk},
    "report-proof": lambda w: {"pk": w["batch"].pk},
    "GET /api/v1/batches/{id}/proof/": lambda w: {"id": w["batch"].pk},
    "charge-detail": lambda w: {"pk": w["charge"].pk},
    "GET /api/v1/batches/{id}/": lambda w: {"id": w["batch"].pk},
    "GET /api/v1/charges/{id}/": lambda w: {"id": w["charge"].pk},
}

# "METHOD /path" -> expected status per actor, for requests with an empty body.
API = {
    "POST /api/v1/auth/token/": everyone(400),
    "GET /api/v1/batches/": everyone(200),
    "GET /api/v1/batches/{id}/": everyone(200),
    "GET /api/v1/batches/{id}/proof/": signed_in(200, anonymous=401),
    "GET /api/v1/charges/": signed_in(200, anonymous=401),
    "GET /api/v1/pools/": everyone(200),
    "GET /api/v1/pools/{slug}/": everyone(200),
    "GET /api/v1/pools/{slug}/forecast/": everyone(200),
    "GET /api/v1/pools/{slug}/rules/": everyone(200),
    "GET /api/v1/statement/": signed_in(200, anonymous=401),
    "GET /api/v1/conditions/": everyone(200),
    "GET /api/v1/conditions/{code}/": everyone(200),
    "GET /api/v1/memberships/": signed_in(200, anonymous=401),
    "GET /api/v1/memberships/{id}/": OWN_ONLY,
    "POST /api/v1/memberships/": signed_in(400, anonymous=401),
    "POST /api/v1/memberships/{id}/withdraw/": OWN_ONLY,
    # member_a's membership is active: a clear 400, not lapsed
    "POST /api/v1/memberships/{id}/reinstate/": {**signed_in(404, anonymous=401), "member_a": 400},
    "GET /api/v1/persons/": signed_in(200, anonymous=401),
    "GET /api/v1/persons/{id}/": OWN_ONLY,
    "POST /api/v1/persons/": signed_in(400, anonymous=401),
    "GET /api/v1/wallet/": signed_in(200, anonymous=401),
    "GET /api/v1/claims/": signed_in(200, anonymous=401),
    "GET /api/v1/notice/": everyone(200),
    "GET /api/v1/claims/{id}/objections/": everyone(404),  # never public: as an unknown id
    "POST /api/v1/claims/{id}/objections/": signed_in(404, anonymous=401),
    "GET /api/v1/claims/{id}/": OWN_ONLY,
    "GET /api/v1/claims/{id}/evidence/": OWN_ONLY,
    "POST /api/v1/claims/": signed_in(400, anonymous=401),
    "POST /api/v1/claims/{id}/evidence/": {**signed_in(404, anonymous=401), "member_a": 415},
    "POST /api/v1/claims/{id}/transition/": {**signed_in(404, anonymous=401), "member_a": 400},
    "POST /api/v1/wallet/": signed_in(400, anonymous=401),
    "GET /api/v1/charges/{id}/": {**signed_in(404, anonymous=401), "member_a": 200},
}


def walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, prefix + str(pattern.pattern)


def web_url_names():
    names = set()
    for name, route in walk(get_resolver().url_patterns):
        if "drf_format_suffix" in route or name in SKIPPED or name.endswith(ADMIN_GENERATED):
            continue
        names.add(name)
    return sorted(names)


def api_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item
    )


@pytest.fixture
def world(db):
    """One of each actor, with the rows that parametrised URLs point at."""
    users = {}
    for actor in ("member_a", "member_b", "juror"):
        users[actor] = MembershipFactory(person__account=UserFactory(username=actor)).person.account
    for actor, group in STAFF.items():
        user = UserFactory(username=actor, is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        users[actor] = user
    membership_a = users["member_a"].persons.get().memberships.get()
    approved_claim(membership_a.pool, 1_000)
    batch = run_all_chunks(publishing.start_batch(membership_a.pool))
    charge = batch.charges.get(membership=membership_a)
    claim = services.create_draft(
        users["member_a"],
        membership_a,
        condition=membership_a.pool.conditions.first(),
        cause="illness",
        diagnosis_date=membership_a.waiting_ends_on,
        hospital="H",
        province="Zhejiang",
    )
    evidence = services.upload_evidence(
        claim, users["member_a"], SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"0" * 32)
    )
    # member_b's claim went through public notice to a panel on which `juror` sits.
    JuryVolunteer.objects.create(user=users["juror"], accepted_rules_at=timezone.now())
    panel_claim = NoticeClaimFactory(
        membership=users["member_b"].persons.get().memberships.get(),
        status=Claim.Status.PANEL_REVIEW,
    )
    panel = notice_services.draw_panel(panel_claim, seed=1)
    return {
        "panel": panel,
        "claim": claim,
        "evidence": evidence,
        "users": users,
        "batch": batch,
        "charge": charge,
        "membership": membership_a,
        "condition": membership_a.pool.conditions.first(),
    }


def client_for(client, world, actor):
    if actor != "anonymous":
        client.force_login(world["users"][actor])
    return client


def test_every_url_has_a_row():
    missing = [name for name in web_url_names() if name not in WEB]
    assert not missing, f"add these URL names to the authorization matrix: {missing}"


def test_every_api_operation_has_a_row():
    missing = [op for op in api_operations() if op not in API]
    assert not missing, f"add these API operations to the authorization matrix: {missing}"


@pytest.mark.parametrize("actor", ACTORS)
def test_web_matrix(client, world, actor):
    client = client_for(client, world, actor)
    wrong = []
    for name in web_url_names():
        kwargs = PARAMS[name](world) if name in PARAMS else {}
        status = client.get(reverse(name, kwargs=kwargs)).status_code
        if status != WEB[name][actor]:
            wrong.append(f"{name}: expected {WEB[name][actor]}, got {status}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("actor", ACTORS)
def test_admin_model_pages_follow_role_permissions(client, world, actor):
    from django.contrib import admin

    client = client_for(client, world, actor)
    user = world["users"].get(actor)
    wrong = []
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        if user is None or not user.is_staff:
            expected = LOGIN
        else:
            may = any(
                user.has_perm(f"{opts.app_label}.{perm}_{opts.model_name}")
                for perm in ("view", "change")
            )
            expected = 200 if may else 403
        status = client.get(url).status_code
        if status != expected:
            wrong.append(f"{url}: expected {expected}, got {status}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("actor", ACTORS)
def test_api_matrix(client, world, actor):
    client = client_for(client, world, actor)
    wrong = []
    for operation in api_operations():
        method, path = operation.split(" ", 1)
        for placeholder, value in (PARAMS.get(operation, lambda w: {})(world)).items():
            path = path.replace("{" + placeholder + "}", str(value))
        response = getattr(client, method.lower())(path, content_type="application/json")
        if response.status_code != API[operation][actor]:
            wrong.append(
                f"{operation}: expected {API[operation][actor]}, got {response.status_code}"
            )
        elif response.status_code >= 400:
            assert "detail" in response.json(), f"{operation} {response.status_code} without detail"
    assert not wrong, "\n".join(wrong)
