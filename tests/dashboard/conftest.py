# The API applications of tests/api serve the dashboard's tests too.
from tests.api.conftest import alice, bob  # noqa: F401
