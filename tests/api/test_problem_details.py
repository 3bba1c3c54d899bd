"""Under /api/, every error is a problem detail: also those Django raises
while reading a request, before a view could answer.

The dashboard keeps Django's HTML error pages.
"""

from __future__ import annotations

import io

import pytest

from tests.api.face_enhancing_support import START_URL, start_form

TOKEN_URL = "/api/v1/Authorization/GenerateJwtToken"
PROBLEM = "application/problem+json"


def _problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["instance"] == response.request["PATH_INFO"]
    assert body["extensions"]["traceId"]
    return body


def test_a_body_over_the_size_limit_is_413(client, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"jwtPrivateKey": "' + "a" * 2000 + '"}'

    response = client.post(TOKEN_URL, body, content_type="application/json")

    problem = _problem(response, 413)
    assert problem["title"] == "Payload Too Large"
    assert problem["errors"] == {"$": ["Must be at most 1000 bytes, files not counted."]}


def test_a_huge_form_field_is_413(client, alice, alice_headers, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    form = start_form(alice.application, userId="a" * 2000)

    response = client.post(START_URL, form, headers=alice_headers)

    assert list(_problem(response, 413)["errors"]) == ["$"]


def test_too_many_form_fields_is_400(client, alice, alice_headers, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    form = start_form(alice.application, **{f"extra{i}": "x" for i in range(20)})

    response = client.post(START_URL, form, headers=alice_headers)

    problem = _problem(response, 400)
    assert problem["detail"] == "The request has more than 10 query parameters or form fields."


def test_too_many_files_is_400(client, alice, alice_headers, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 5
    files = {f"file{i}": io.BytesIO(b"x") for i in range(10)}

    response = client.post(START_URL, start_form(alice.application, **files), headers=alice_headers)

    problem = _problem(response, 400)
    assert problem["errors"] == {"$": ["Must have at most 5 files."]}


def test_a_multipart_body_without_boundary_names_the_content_type(client, alice, alice_headers):
    response = client.generic(
        "POST", START_URL, b"--x\r\n\r\n", content_type="multipart/form-data", headers=alice_headers
    )

    assert list(_problem(response, 400)["errors"]) == ["Content-Type"]


def test_a_5000_character_file_name_names_the_content_type(client, alice, alice_headers):
    body = (
        b'--b\r\nContent-Disposition: form-data; name="uploadedImage"; filename="'
        + b"a" * 5000
        + b'.png"\r\nContent-Type: image/png\r\n\r\nxx\r\n--b--\r\n'
    )
    response = client.generic(
        "POST",
        START_URL,
        body,
        content_type="multipart/form-data; boundary=b",
        headers=alice_headers,
    )

    assert list(_problem(response, 400)["errors"]) == ["Content-Type"]


def test_a_media_type_the_endpoint_does_not_read_is_415_naming_the_header(client, db):
    response = client.post(TOKEN_URL, "hello", content_type="text/plain")

    assert list(_problem(response, 415)["errors"]) == ["Content-Type"]


def test_a_request_django_refuses_before_any_view_is_a_problem(client, db):
    response = client.get(TOKEN_URL, headers={"Host": "not-an-allowed-host.example"})

    _problem(response, 400)


def test_the_dashboard_keeps_its_html_error_pages(client, db):
    response = client.get("/", headers={"Host": "not-an-allowed-host.example"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("method", ["put", "delete"])
def test_a_method_not_allowed_is_405(client, db, method):
    response = getattr(client, method)(TOKEN_URL)

    _problem(response, 405)


def test_a_chunked_body_is_411_not_read_as_empty(client, alice, alice_headers):
    # What gunicorn passes on for Transfer-Encoding: chunked: no CONTENT_LENGTH.
    response = client.generic(
        "POST",
        START_URL,
        b"",
        content_type="multipart/form-data; boundary=b",
        headers={**alice_headers, "Transfer-Encoding": "chunked"},
        CONTENT_LENGTH="",
    )

    problem = _problem(response, 411)
    assert problem["title"] == "Length Required"
    assert list(problem["errors"]) == ["Content-Length"]
