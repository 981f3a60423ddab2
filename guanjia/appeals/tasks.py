"""Scheduled appeal work. A task is a poke; its effects are guarded row updates."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from guanjia.appeals import lifecycle


@db_periodic_task(crontab(minute="*/5"))
def close_unrated_appeals() -> int:
    """Answered appeals whose 3 working days to rate have passed close as 未评价."""
    return lifecycle.close_unrated()
