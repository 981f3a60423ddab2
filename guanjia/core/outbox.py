"""The outbox: side effects written as rows in the caller's transaction, delivered by a worker.

huey removes a task from its queue before running it, so a task is only a poke:
the record of what must be sent is an OutboxMessage row. A worker claims a row
with a conditional UPDATE (status pending → sending); only the worker whose
update changed the row sends it. A worker that dies after claiming leaves the
row in `sending`; once its lease has run out, `release_stale()` puts it back.
"""

from __future__ import annotations

import json
import logging
import urllib.request
import uuid
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from guanjia.core.masking import mask_phone
from guanjia.core.models import OutboxMessage

log = logging.getLogger(__name__)


class Undeliverable(Exception):
    """A message that can never be sent (e.g. its robot was deleted): failed at once, not retried."""


class SmsBackend(Protocol):
    def send(self, phone: str, text: str, message_id: int) -> None: ...


class LogSmsBackend:
    """Default SMS backend: writes the message to the log instead of sending it (the number masked:
    logs are read by more people than the outbox)."""

    def send(self, phone: str, text: str, message_id: int) -> None:
        log.info("SMS #%s to %s: %s", message_id, mask_phone(phone), text)


def message(channel: str, recipient: str, *, subject: str = "", payload: dict | None = None) -> OutboxMessage:
    """An unsaved outbox message, for enqueue_many."""
    return OutboxMessage(channel=channel, recipient=recipient, subject=subject[:200], payload=payload or {})


def enqueue(channel: str, recipient: str, *, subject: str = "", payload: dict | None = None) -> OutboxMessage:
    """Add a message to the outbox in the current transaction; a worker is poked after commit."""
    (saved,) = enqueue_many([message(channel, recipient, subject=subject, payload=payload)])
    return saved


def enqueue_many(messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """Add unsaved messages in one insert; the worker is poked once after commit, however many there are."""
    if not messages:
        return []
    saved = OutboxMessage.objects.bulk_create(messages)
    _schedule_poke()
    return saved


def _schedule_poke() -> None:
    # One poke per transaction is enough: the worker delivers everything pending. A poke registered
    # inside a savepoint that rolls back is dropped with it, so the check looks at what is still queued.
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(entry[1] is _poke_worker for entry in connection.run_on_commit):
        return
    transaction.on_commit(_poke_worker)


def _poke_worker() -> None:
    from guanjia.core.tasks import deliver_outbox

    deliver_outbox()


def claim(message_id: int, worker: str) -> bool:
    """Try to take one pending message; True for exactly one of any number of concurrent callers."""
    now = timezone.now()
    return (
        OutboxMessage.objects.filter(
            id=message_id, status=OutboxMessage.Status.PENDING, available_at__lte=now
        ).update(
            status=OutboxMessage.Status.SENDING, claimed_by=worker, claimed_at=now, attempts=F("attempts") + 1
        )
        == 1
    )


def release_stale() -> int:
    """Put back messages whose worker died after claiming them (lease expired)."""
    cutoff = timezone.now() - timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING, claimed_at__lt=cutoff).update(
        status=OutboxMessage.Status.PENDING, claimed_by=""
    )


def send(message: OutboxMessage) -> None:
    """Hand one message to its channel; raises on failure."""
    text = message.payload.get("text", "")
    link = message.payload.get("link", "")
    if message.channel == OutboxMessage.Channel.SMS:
        backend: SmsBackend = import_string(settings.SMS_BACKEND)()
        backend.send(message.recipient, f"{text} {link}".strip(), message.id)
    elif message.channel == OutboxMessage.Channel.EMAIL:
        send_mail(message.subject or text, f"{text}\n{link}", None, [message.recipient])
    elif message.channel == OutboxMessage.Channel.WEBHOOK and message.payload.get("format"):
        # A department's DingTalk / WeCom robot: its text, address and secret are settled at send time.
        from guanjia.core import webhooks  # webhooks enqueues through this module

        webhooks.post(message)
    elif message.channel == OutboxMessage.Channel.WEBHOOK:
        body = json.dumps({"id": message.id, **message.payload}, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - URL is an administrator's setting
            message.recipient, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            if response.status >= 300:
                raise RuntimeError(f"webhook answered HTTP {response.status}")
    else:
        raise ValueError(f"unknown outbox channel {message.channel!r}")


def deliver_pending(limit: int = 200, worker: str | None = None) -> int:
    """Claim and send pending messages; returns how many were sent."""
    worker = worker or uuid.uuid4().hex
    release_stale()
    now = timezone.now()
    ids = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, available_at__lte=now)
        .order_by("available_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    sent = 0
    for message_id in ids:
        if not claim(message_id, worker):
            continue  # another worker has it
        message = OutboxMessage.objects.get(id=message_id)
        try:
            send(message)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
            _record_failure(message, exc, worker)
            continue
        OutboxMessage.objects.filter(id=message_id, claimed_by=worker).update(
            status=OutboxMessage.Status.SENT, sent_at=timezone.now(), last_error=""
        )
        sent += 1
    return sent


def _record_failure(message: OutboxMessage, exc: Exception, worker: str) -> None:
    log.warning("outbox message %s failed: %s", message.id, exc)
    give_up = isinstance(exc, Undeliverable) or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    backoff = timedelta(seconds=30 * 2 ** min(message.attempts, 8))
    OutboxMessage.objects.filter(id=message.id, claimed_by=worker).update(
        status=OutboxMessage.Status.FAILED if give_up else OutboxMessage.Status.PENDING,
        available_at=timezone.now() + backoff,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        claimed_by="",
    )
