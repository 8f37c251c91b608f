"""Settings for the regional server's own test suite (regional_server/pytest.ini).

The real settings refuse to start without a secret key; tests get a fixed, test-only one here
instead of a fallback in the real settings that production could silently fall into."""

import os

os.environ.setdefault("REGION_SECRET_KEY", "test-only-region-secret-key-not-for-any-server")

from region.settings import *  # noqa: E402, F403
