"""Accounts: log in, log out (POST only), password change, and the no-team state."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_send_strangers_to_the_login_page(client):
    for name in ("dashboard:jobs", "dashboard:upload", "dashboard:team"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("dashboard:login") + "?next=")


def test_a_member_logs_in_and_lands_on_my_jobs(client, member):
    page = client.get(reverse("dashboard:login"))
    assert b'autocomplete="current-password"' in page.content

    response = client.post(
        reverse("dashboard:login"), {"username": "alice", "password": "pw-alice-123"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:jobs")


def test_a_wrong_password_says_so(client, member):
    response = client.post(reverse("dashboard:login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_login_honours_next(client, member):
    response = client.post(
        reverse("dashboard:login") + "?next=/team/",
        {"username": "alice", "password": "pw-alice-123", "next": "/team/"},
    )
    assert response["Location"] == "/team/"


def test_logout_is_a_post(member_client):
    assert member_client.get(reverse("dashboard:logout")).status_code == 405

    response = member_client.post(reverse("dashboard:logout"))

    assert response["Location"] == reverse("dashboard:login")
    assert member_client.get(reverse("dashboard:jobs")).status_code == 302


def test_password_change(member_client, member):
    response = member_client.post(
        reverse("dashboard:password-change"),
        {
            "old_password": "pw-alice-123",
            "new_password1": "a-much-longer-passphrase-42",
            "new_password2": "a-much-longer-passphrase-42",
        },
    )

    assert response.status_code == 302
    member.user.refresh_from_db()
    assert member.user.check_password("a-much-longer-passphrase-42")
    # Still logged in: the session hash was updated.
    assert member_client.get(reverse("dashboard:jobs")).status_code == 200


def test_password_change_shows_field_errors(member_client):
    response = member_client.post(
        reverse("dashboard:password-change"),
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert response.status_code == 200
    assert b'aria-invalid="true"' in response.content
    assert b"Your old password was entered incorrectly" in response.content


def test_password_change_needs_a_login(client):
    response = client.get(reverse("dashboard:password-change"))
    assert response["Location"].startswith(reverse("dashboard:login"))


def test_a_user_without_a_team_is_told_to_ask_an_admin(client, charlie):
    client.force_login(charlie)

    response = client.get(reverse("dashboard:jobs"))

    assert response.status_code == 403
    assert b"Ask an admin to add you to a team" in response.content
    upload = client.get(reverse("dashboard:upload"))
    assert upload.status_code == 403
    assert b"Ask an admin to add you to a team" in upload.content


def test_the_admin_keeps_its_own_password_change_page(admin_client):
    response = admin_client.get(reverse("admin:password_change"))
    assert response.status_code == 200
    assert b'id="site-name"' in response.content  # the admin's own page, under its header
    assert b"Face Enhancer administration" in response.content


def test_the_admin_login_is_branded_face_enhancer(client):
    html = client.get("/admin/login/").content.decode()

    assert "Face Enhancer administration" in html
    assert "<title>Log in | Face Enhancer admin</title>" in html
    assert "Django administration" not in html and "Django site admin" not in html
