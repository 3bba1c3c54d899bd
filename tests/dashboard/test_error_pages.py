"""Error pages a person sees (the API answers problem details instead)."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_an_unknown_page_is_a_designed_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"This page doesn't exist" in response.content
    assert b"Go to my jobs" in response.content


@pytest.mark.django_db
def test_an_unknown_api_path_is_a_problem_detail(client):
    response = client.get("/api/v1/NoSuchThing")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
