"""Background tasks. A task is a poke; the work it does is recorded in database rows."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from guanjia.core import audit, outbox


@db_task()
def deliver_outbox() -> int:
    return outbox.deliver_pending()


@db_periodic_task(crontab(minute="*"))
def sweep_outbox() -> int:
    """Catch messages whose poke was lost (worker down at commit time) and retries that came due."""
    return outbox.deliver_pending()


@db_periodic_task(crontab(minute="*"))
def seal_audit() -> int:
    return audit.seal_pending()


@db_periodic_task(crontab(hour="3", minute="17"))
def clear_expired_sessions() -> None:
    """Sessions expire after the idle timeout; their rows are removed nightly."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.filter(expire_date__lt=timezone.now()).delete()


@db_periodic_task(crontab(minute="*/15"))
def prune_rate_limits() -> int:
    """Rate-limit counters matter only while their window lasts; ended windows are removed."""
    from guanjia.core import http

    return http.prune()
