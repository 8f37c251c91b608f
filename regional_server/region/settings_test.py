"""Settings for the regional server's own test suite (regional_server/pytest.ini).

The real settings refuse to start without a secret key; tests get a fixed, test-only one here
instead of a fallback in the real settings that production could silently fall into."""

import os

os.environ.setdefault("REGION_SECRET_KEY", "test-only-region-secret-key-not-for-any-server")

from region.settings import *  # noqa: E402, F403

# Atrium's directory is not running for the regional suite: a closed port refuses at once (the
# shared navigation degrades), whatever else listens on this machine. Tests that need the
# directory start their own (atrium_kit/tests/directory_support.py) and point these at it.
ATRIUM_TOKEN_ENDPOINT = "http://127.0.0.1:9/identity/o/api/token"
ATRIUM_MACHINE_URL = "https://127.0.0.1:9"
