"""The OpenAPI schema documents every FaceEnhancing endpoint, parameter, header and body."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

BASE = "/api/v1/Image/FaceEnhancing"
OPERATIONS = {
    f"{BASE}/AdCreative": "post",
    f"{BASE}/CheckUserProgress": "get",
    f"{BASE}/CheckApplicationAllProgresses": "get",
    f"{BASE}/Download": "get",
}


@pytest.fixture(scope="module")
def schema() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(generated)  # raises if it is not valid OpenAPI 3
    return generated


def _resolve(schema: dict, node: dict) -> dict:
    ref = node.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else node


def _params(operation: dict) -> dict[tuple[str, str], dict]:
    return {(p["in"], p["name"]): p for p in operation["parameters"]}


def test_the_whole_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


def test_every_endpoint_is_there_with_its_method_and_only_it(schema):
    for path, method in OPERATIONS.items():
        assert path in schema["paths"], path
        assert set(schema["paths"][path]) == {method}


@pytest.mark.parametrize(("path", "method"), OPERATIONS.items())
def test_every_endpoint_documents_credentials_and_problem_responses(schema, path, method):
    operation = schema["paths"][path][method]
    params = _params(operation)
    assert params[("header", "x-api-key")]["required"] is True
    assert params[("header", "x-api-secret")]["required"] is True
    assert operation["security"] == [{"bearerAuth": []}]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    # Only the start has a body (411, 413, 415) and stores anything, so only
    # it can find the queue down (503).
    start_only = {"411", "413", "415", "503"} if path == f"{BASE}/AdCreative" else set()
    before_view = {"414", "431"}  # over-long URI or header (enhancer/api/request_limits.py)
    assert set(operation["responses"]) == {"200", "400", "401", "404"} | start_only | before_view
    for status in ("400", "401", "404", *start_only, *before_view):
        response = operation["responses"][status]
        assert response["description"]
        assert list(response["content"]) == ["application/problem+json"]
        body = response["content"]["application/problem+json"]["schema"]
        assert body["$ref"].endswith("/ProblemDetails")
    assert operation["summary"] and operation["tags"] == ["FaceEnhancing"]


def test_start_documents_the_multipart_form_and_the_process(schema):
    operation = schema["paths"][f"{BASE}/AdCreative"]["post"]
    assert list(operation["requestBody"]["content"]) == ["multipart/form-data"]
    form = _resolve(schema, operation["requestBody"]["content"]["multipart/form-data"]["schema"])
    props = form["properties"]
    assert sorted(form["required"]) == ["applicationId", "uploadedImage", "userId"]
    assert props["applicationId"]["format"] == props["userId"]["format"] == "uuid"
    assert props["ariaRatio"] | {"description": ""} == {
        "type": "number",
        "format": "double",
        "minimum": 0.0,
        "maximum": 1.0,
        "default": 0.5,
        "description": "",
    }
    assert (props["maxFaceCount"]["default"], props["maxFaceCount"]["minimum"]) == (10, 1)
    assert props["maxFaceCount"]["maximum"] == 50
    assert props["uploadedImage"]["format"] == "binary"
    assert ("header", "Idempotency-Key") in _params(operation)

    process = _resolve(
        schema, operation["responses"]["200"]["content"]["application/json"]["schema"]
    )
    for field in (
        "imageFaceEnhancerProcessId",
        "taskId",
        "applicationId",
        "userId",
        "status",
        "progress",
        "parameters",
        "createdAt",
        "renderTasks",
        "errorMessage",
        "facesDetected",
        "facesEnhanced",
    ):
        assert field in process["properties"], field
        assert field in process["required"], field
    task = _resolve(schema, process["properties"]["renderTasks"]["items"])
    assert "5 = Completed" in task["properties"]["renderState"]["description"]


def test_every_problem_is_documented_as_served_application_problem_json(schema):
    problems = 0
    for path, path_item in schema["paths"].items():
        for method, operation in path_item.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {})
                if int(status) >= 400:
                    assert "application/json" not in content, (path, method, status)
                problems += "application/problem+json" in content
    assert problems >= 20


def test_every_operation_documents_what_is_answered_before_its_view(schema):
    for path, path_item in schema["paths"].items():
        for method, operation in path_item.items():
            expected = {"400", "414", "431"} | (
                {"411", "413", "415"} if "requestBody" in operation else set()
            )
            assert expected <= set(operation["responses"]), (path, method)


def test_channel_urls_are_documented_as_uris(schema):
    for name in ("ChannelRequestRequest", "PatchedChannelRequestRequest", "ChannelResponse"):
        assert schema["components"]["schemas"][name]["properties"]["url"]["format"] == "uri"


def test_start_documents_the_idempotency_key_pattern(schema):
    operation = schema["paths"][f"{BASE}/AdCreative"]["post"]
    key = _params(operation)[("header", "Idempotency-Key")]["schema"]

    assert (key["type"], key["minLength"], key["maxLength"]) == ("string", 1, 255)
    pattern = re.compile(key["pattern"])
    assert pattern.match("order-42:retry")
    for refused in ("", " padded ", "x" * 256, "tab\there", "é"):
        assert not pattern.match(refused), refused


def test_the_page_number_has_a_maximum(schema):
    operation = schema["paths"][f"{BASE}/CheckUserProgress"]["get"]
    page = _params(operation)[("query", "page")]["schema"]
    assert (page["minimum"], page["maximum"]) == (1, 2_147_483_647)


def test_start_documents_the_503_with_its_retry_after_header(schema):
    response = schema["paths"][f"{BASE}/AdCreative"]["post"]["responses"]["503"]

    assert "nothing was stored" in response["description"]
    assert response["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert response["headers"]["Retry-After"]["description"]


@pytest.mark.parametrize(
    ("path", "required", "optional"),
    [
        ("CheckUserProgress", {"userId"}, {"imageFaceEnhancerProcessId", "page", "pageSize"}),
        ("CheckApplicationAllProgresses", {"applicationId"}, {"page", "pageSize"}),
        ("Download", {"applicationId", "taskId", "imageFaceEnhancerProcessId"}, {"lowResolution"}),
    ],
)
def test_query_parameters_are_documented(schema, path, required, optional):
    operation = schema["paths"][f"{BASE}/{path}"]["get"]
    query = {name: p for (where, name), p in _params(operation).items() if where == "query"}
    assert set(query) == required | optional
    assert {n for n, p in query.items() if p.get("required")} == required
    for parameter in query.values():
        assert parameter.get("description"), parameter["name"]


def test_the_progress_page_is_documented(schema):
    operation = schema["paths"][f"{BASE}/CheckUserProgress"]["get"]
    page = _resolve(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(page["properties"]) == {
        "items",
        "page",
        "pageSize",
        "totalCount",
        "totalPages",
        "hasPreviousPage",
        "hasNextPage",
    }


def test_download_is_a_binary_image(schema):
    content = schema["paths"][f"{BASE}/Download"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"image/jpeg", "image/png", "image/webp"}
    for media_type in content.values():
        assert media_type["schema"] == {"type": "string", "format": "binary"}


def test_the_schema_and_the_docs_are_served(client, db):
    served = client.get("/api/schema/", {"format": "json"})
    docs = client.get("/api/docs/")
    assert served.status_code == docs.status_code == 200
    assert f"{BASE}/AdCreative" in served.json()["paths"]
