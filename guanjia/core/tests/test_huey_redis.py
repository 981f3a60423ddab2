"""huey's storage: Redis when REDIS_URL is set, otherwise a SQLite file of its own (never Django's)."""

import os

import pytest
from django.conf import settings
from huey.contrib.djhuey import HUEY

from guanjia.core import outbox
from guanjia.core.models import OutboxMessage


def test_sqlite_storage_is_a_file_of_its_own():
    if settings.REDIS_URL:
        pytest.skip("REDIS_URL is set: huey uses Redis")
    assert settings.HUEY["filename"] != str(settings.DATABASES["default"]["NAME"])
    assert settings.HUEY["utc"] is False  # schedules in Beijing time


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI runs it against 127.0.0.1:6379)"
)
@pytest.mark.django_db(transaction=True)
def test_task_goes_through_redis_and_its_work_is_in_the_outbox(settings):
    from huey import RedisHuey

    assert isinstance(HUEY, RedisHuey)
    HUEY.immediate = False
    HUEY.flush()
    try:
        message = OutboxMessage.objects.create(channel="sms", recipient="13800000000", payload={"text": "t"})
        from guanjia.core.tasks import deliver_outbox

        deliver_outbox()
        assert HUEY.pending_count() == 1
        task = HUEY.dequeue()
        # huey has removed the task from Redis before running it; the outbox row is the record.
        assert HUEY.pending_count() == 0
        HUEY.execute(task)
        message.refresh_from_db()
        assert message.status == OutboxMessage.Status.SENT
        assert outbox.deliver_pending() == 0
    finally:
        HUEY.flush()
        HUEY.immediate = True
