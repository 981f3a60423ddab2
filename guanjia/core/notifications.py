"""The in-app inbox (站内消息), and the mail and SMS that point to it.

`notify()` writes in the caller's transaction: one Notification per user and,
when asked, one outbox message per address, so a message is written exactly
when the business row that caused it is, and delivered after commit. Mail and
SMS carry a fixed text, an identifier and a link only (DESIGN.md): never the
in-app title, let alone an appeal's text or personal data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core import outbox
from guanjia.core.models import Notification, OutboxMessage, User
from guanjia.core.workcalendar import BEIJING

# SMS written at night wait in the outbox until this hour (Beijing time): the sweeps fire at midnight,
# when every deadline falls, and nobody should be woken by a reminder that can wait till morning.
SMS_QUIET_UNTIL = time(8, 0)
SMS_QUIET_FROM = time(22, 0)


def _check_link(link: str) -> None:
    # A relative path on this site: an absolute URL or a scheme-relative one (//host) could point away.
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link):
        raise ValueError(f"notification link must be a relative path, got {link!r}")


def _sms_available_at(now: datetime) -> datetime | None:
    """When an SMS written now may go out: at once by day, the next morning by night."""
    local = now.astimezone(BEIJING)
    if SMS_QUIET_UNTIL <= local.time() < SMS_QUIET_FROM:
        return None
    day = local.date() if local.time() < SMS_QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, SMS_QUIET_UNTIL, tzinfo=BEIJING)


@dataclass(frozen=True)
class Notice:
    """One message for some users: its inbox title and link, and whether mail and SMS point to it."""

    users: Iterable[User]
    title: str
    link: str = ""
    email: bool = False
    sms: bool = False


def notify(
    users: Iterable[User], *, title: str, link: str = "", email: bool = False, sms: bool = False
) -> list[Notification]:
    """Put a message in each (active, distinct) user's inbox; with email/sms, also point them to it."""
    return notify_many([Notice(users, title, link, email, sms)])


def notify_many(notices: Iterable[Notice]) -> list[Notification]:
    """Several notices in one insert per table (a sweep writes thousands): the same rows as notify() each."""
    now = timezone.now()
    planned: list[tuple[Notice, User]] = []
    for notice in notices:
        _check_link(notice.link)
        distinct = {user.pk: user for user in notice.users if user.pk and user.is_active}
        planned += [(notice, user) for user in distinct.values()]
    if not planned:
        return []
    later = _sms_available_at(now)
    with transaction.atomic():
        created = Notification.objects.bulk_create(
            [
                Notification(user=user, created_at=now, title=notice.title[:200], link=notice.link)
                for notice, user in planned
            ]
        )
        messages: list[OutboxMessage] = []
        for (notice, user), note in zip(planned, created, strict=True):
            absolute = f"{settings.SITE_URL}{notice.link}" if notice.link else settings.SITE_URL
            payload = {"text": _("管家平台有一条新消息，请登录查看"), "ref": note.pk, "link": absolute}
            if notice.email and user.email:
                messages.append(
                    outbox.message(
                        OutboxMessage.Channel.EMAIL, user.email, subject=_("管家平台新消息"), payload=payload
                    )
                )
            if notice.sms and user.phone:
                sms = outbox.message(OutboxMessage.Channel.SMS, user.phone, payload=payload)
                sms.available_at = later or now
                messages.append(sms)
        outbox.enqueue_many(messages)
    return created


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def inbox_of(user: User) -> QuerySet[Notification]:
    """The one entry point for reading notifications: a user's own, newest first."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def mark_read(user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when no ids are given); returns how many."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())
