"""Background work of the visit schedule. A task is a poke; the schedule rows are the record."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from guanjia.visits import services


@db_task()
def reschedule_visits() -> int:
    """The work calendar changed: every next due date is computed again (only changed rows are written)."""
    return services.reschedule_all()


@db_periodic_task(crontab(hour="2", minute="50"))
def reschedule_visits_nightly() -> int:
    """Catch a calendar change whose poke was lost (worker down at commit time)."""
    return services.reschedule_all()
