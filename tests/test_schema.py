"""What generated clients rely on in /api/schema/ (issue 21): each fails on the old schema."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    return client.get(
        "/api/schema/?format=json", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    ).json()


def test_the_token_operation_is_anonymous_and_its_answer_needs_no_credentials(schema):
    token = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert not token.get("security") and not schema.get("security")  # nothing asked of callers
    answer = token["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    model = schema["components"]["schemas"][answer.rsplit("/", 1)[1]]
    assert set(model.get("required", [])) <= {"token"}
    assert list(token["requestBody"]["content"]) == ["application/json"]


def test_write_only_and_read_only_fields_stay_on_their_side(schema):
    components = schema["components"]["schemas"]
    assert "declaration_accepted" not in components["Membership"]["properties"]
    claim_request = components["ClaimRequest"]
    assert not {"id", "status", "payout_cents", "submitted_at", "notice_ends_at"} & set(
        claim_request.get("required", [])
    )


def test_one_content_type_per_body_and_no_stray_parameters(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = list(operation.get("requestBody", {}).get("content", {}))
            expected = (
                ["multipart/form-data"] if path.endswith("/evidence/") else ["application/json"]
            )
            assert not content or content == expected, (method, path, content)
            if method == "post":
                names = [p["name"] for p in operation.get("parameters", [])]
                assert "page" not in names, (method, path)


def test_every_operation_documents_its_errors_with_the_json_body(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for code in ("400", "404", "406", "429"):
                body = operation["responses"][code]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}, (method, path, code)
            if "requestBody" in operation:
                assert {"413", "415"} <= set(operation["responses"]), (method, path)
