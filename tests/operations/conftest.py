# The operations tests use the API's applications (tests/people.py describes them).
from tests.api.conftest import alice, alice_headers, bob, bob_headers  # noqa: F401
