"""The matrix's world, built once per module in a transaction rolled back at its end.

Each test still runs in its own savepoint (pytest-django's `db`), so whatever a request changes
is undone before the next one; building the world once keeps the ~2,000 requests of the matrix
within seconds rather than minutes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings

from guanjia.tests_matrix.world import World, build_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    media = tmp_path_factory.mktemp("matrix-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(media)):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
            world.client = Client()
            for actor, user in world.actors.items():
                if user is not None:
                    world.client.cookies.clear()
                    world.client.force_login(user)
                    world.sessions[actor] = world.client.cookies[settings.SESSION_COOKIE_NAME].value
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
