"""The suite's named people: the same ones in the API's tests and the dashboard's.

As in healthchecks' hc/test.py, tests start from people with names rather than
making an ad-hoc "other user". Their fixtures are in tests/conftest.py (the
API applications, with `credential_headers` below) and
tests/dashboard/conftest.py (the dashboard's members):

- **alice** owns what a test looks at. In the API she is "Alice's application"
  (fixtures `alice`, its issued credentials, and `alice_headers`); on the
  dashboard she is the user "alice", a member of team Alpha, whose connection
  is Alice's application (`member`, logged in as `member_client`).
- **bob** is her neighbour, whose things alice must never see. In the API he is
  "Bob's application" (`bob`, `bob_headers`); on the dashboard the user "bob"
  in team Beta, on Bob's application (`outsider`).
  The API isolates applications, not users, so the second person here has
  his own application rather than a seat in alice's, as healthchecks' bob has.
- **dave** is alice's teammate: a second member of team Alpha (`teammate`),
  for what a team shares and what stays one member's own. The dashboard only.
- **charlie** is logged in and belongs nowhere: a dashboard user with no team
  (fixture `charlie`). The API has no users beyond applications; there an
  outsider is bob's application, or a request without credentials.

Every person's password is `password_of(name)`.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from enhancer.auth.credentials import IssuedCredential, application_create
from enhancer.auth.tokens import token_pair_issue


def password_of(username: str) -> str:
    return f"pw-{username}-123"


def application_of(name: str) -> IssuedCredential:
    """A person's API application, with credentials issued: "Alice's application"."""
    return application_create(name=f"{name.capitalize()}'s application")


def user_named(username: str, **fields: object) -> AbstractBaseUser:
    """A dashboard user who can log in with `password_of(username)`."""
    return get_user_model().objects.create_user(username, password=password_of(username), **fields)


def credential_headers(issued: IssuedCredential) -> dict[str, str]:
    """The headers AdCreative's documentation tells a client to send.

    Plain header names: they work with Django's test client (`headers=`) and
    with `requests` alike.
    """
    pair = token_pair_issue(credential=issued.credential)
    return {
        "Authorization": f"Bearer {pair.access_token}",
        "x-api-key": issued.api_key,
        "x-api-secret": issued.api_secret,
        "Accept": "application/json",
    }
