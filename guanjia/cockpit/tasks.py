"""Scheduled briefings (周报/月报), in Beijing time (huey's utc=False). A task is a poke; the Briefing
rows are the record, so a run that finds a briefing made already leaves it as it is."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from guanjia.cockpit import services
from guanjia.cockpit.models import Briefing


@db_periodic_task(crontab(day_of_week="1", hour="7", minute="0"))
def weekly_briefings() -> int:
    """Monday 07:00: last week's 周报 for the city and for every zone."""
    return services.generate_scheduled(Briefing.Kind.WEEKLY)


@db_periodic_task(crontab(day="1", hour="7", minute="0"))
def monthly_briefings() -> int:
    """The 1st, 07:00: last month's 月报 for the city and for every zone."""
    return services.generate_scheduled(Briefing.Kind.MONTHLY)


@db_periodic_task(crontab(hour="7-22", minute="30"))
def missed_briefings() -> int:
    """Make up a briefing whose run was missed (no worker at 07:00, a failure): only what is missing
    is generated, so on most days this is a handful of reads."""
    return sum(services.generate_scheduled(kind) for kind in Briefing.Kind.values)
