from backup.tests.support import _fresh_versions, people_client  # noqa: F401 - fixtures
