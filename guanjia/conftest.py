from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from guanjia.testing import PASSWORD, Cast, build_cast

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _security_policy_defaults():
    """Each test starts from the settings' security policy, cached without a query (a test's saved policy
    is rolled back with its database, but would stay in guanjia.core.security's process-wide cache)."""
    from guanjia.core import security

    security.assume_no_saved_policy()
    yield
    security.assume_no_saved_policy()


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()


@pytest.fixture
def login():
    """login(user) -> a test Client logged in as that user."""

    def _login(user) -> Client:
        client = Client()
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return _login


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present (a user's clone has no shared/)")
    return SHARED_DATA
