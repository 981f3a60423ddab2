from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from guanjia.core import outbox
from guanjia.core.models import OutboxMessage
from guanjia.testing import run_concurrently

SENT: list[int] = []


class RecordingSmsBackend:
    def send(self, phone: str, text: str, message_id: int) -> None:
        SENT.append(message_id)


class BrokenSmsBackend:
    def send(self, phone: str, text: str, message_id: int) -> None:
        raise ConnectionError("gateway down")


@pytest.fixture(autouse=True)
def _clear_sent():
    SENT.clear()


@override_settings(SMS_BACKEND="guanjia.core.tests.test_outbox.RecordingSmsBackend")
def test_message_is_delivered_after_commit_and_not_on_rollback(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.enqueue("sms", "13800000000", payload={"text": "您有新的答复", "link": "/x/1"})
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert [message.id] == SENT

    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue("sms", "13800000000", payload={"text": "x"})
        raise RuntimeError("the business write failed")
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@override_settings(SMS_BACKEND="guanjia.core.tests.test_outbox.RecordingSmsBackend")
def test_two_workers_claiming_at_once_deliver_once():
    ids = [
        OutboxMessage.objects.create(channel="sms", recipient="13800000000", payload={"text": "t"}).id
        for _ in range(20)
    ]
    results = run_concurrently(
        lambda: outbox.deliver_pending(worker="worker-1"),
        lambda: outbox.deliver_pending(worker="worker-2"),
        lambda: outbox.deliver_pending(worker="worker-3"),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 20
    assert sorted(SENT) == sorted(ids)  # every message once, none twice
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxMessage.Status.SENT}


@override_settings(SMS_BACKEND="guanjia.core.tests.test_outbox.RecordingSmsBackend", OUTBOX_LEASE_SECONDS=60)
def test_worker_that_dies_after_claiming_loses_nothing(db):
    message = OutboxMessage.objects.create(channel="sms", recipient="13800000000", payload={"text": "t"})
    # A worker claims the row and dies before sending: the row stays `sending`.
    assert outbox.claim(message.id, "dead-worker")
    assert outbox.deliver_pending(worker="other") == 0  # still leased: nobody else sends it
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert outbox.deliver_pending(worker="other") == 1
        assert outbox.deliver_pending(worker="third") == 0
    assert [message.id] == SENT


@override_settings(SMS_BACKEND="guanjia.core.tests.test_outbox.BrokenSmsBackend", OUTBOX_MAX_ATTEMPTS=2)
def test_failures_are_recorded_retried_then_given_up(db):
    message = OutboxMessage.objects.create(channel="sms", recipient="13800000000", payload={"text": "t"})
    assert outbox.deliver_pending() == 0
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING and "gateway down" in message.last_error
    assert outbox.deliver_pending() == 0  # backoff: not due yet
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        outbox.deliver_pending()
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED and message.attempts == 2


def test_webhook_payload_is_posted_as_json(db):
    message = OutboxMessage.objects.create(
        channel="webhook", recipient="http://127.0.0.1:9/hook", payload={"ref": 7, "link": "/appeals/7/"}
    )
    response = mock.MagicMock(status=200)
    response.__enter__.return_value = response
    with mock.patch("urllib.request.urlopen", return_value=response) as urlopen:
        assert outbox.deliver_pending() == 1
    request = urlopen.call_args.args[0]
    assert request.full_url == "http://127.0.0.1:9/hook"
    assert b'"ref": 7' in request.data and str(message.id).encode() in request.data
