"""Scheduled appeal work. A task is a poke; its effects are guarded row updates."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from guanjia.appeals import attachments, escalation, lifecycle, rollups


@db_periodic_task(crontab(minute="*/5"))
def close_unrated_appeals() -> int:
    """Answered appeals whose 3 working days to rate have passed close as 未评价."""
    return lifecycle.close_unrated()


@db_periodic_task(crontab(minute="*/5"))
def sweep_escalations() -> int:
    """督办: 预警, 催办 and 红牌 at their deadlines; each happens once however often this runs."""
    return escalation.sweep().total


@db_periodic_task(crontab(minute="*/5"))
def resume_overdue_pauses() -> int:
    """补充材料 waits at most 5 working days: then the clock runs again on its own."""
    return lifecycle.resume_overdue_pauses()


@db_periodic_task(crontab(hour="3", minute="40"))
def remove_orphaned_attachments() -> int:
    """Files no attachment row points at (a killed upload, a rolled-back transaction), once a day old."""
    return attachments.remove_orphans()


@db_task()
def rebuild_kpi_rollups() -> int:
    """The work calendar changed: handling days and provisional flags with it, so every appeal's
    facts are counted again and the rollups corrected (guanjia.appeals.rollups)."""
    return rollups.rebuild()


@db_periodic_task(crontab(hour="3", minute="20"))
def rebuild_kpi_rollups_nightly() -> int:
    """Catch a calendar change whose poke was lost (worker down at commit time)."""
    return rollups.rebuild()
