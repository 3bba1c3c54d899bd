from tests.api.conftest import alice, alice_headers, bob, bob_headers  # noqa: F401
