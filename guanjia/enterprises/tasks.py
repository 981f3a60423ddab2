"""Background work of the enterprise registry. A task is a poke; the ImportJob row is the record."""

from __future__ import annotations

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from guanjia.enterprises import importing
from guanjia.enterprises.models import ImportJob


@db_task()
def validate_import(job_id: int) -> None:
    importing.validate_job(job_id)


@db_task()
def write_import(job_id: int) -> None:
    importing.write_job(job_id)


@db_periodic_task(crontab(minute="*/5"))
def recover_stale_imports() -> int:
    """Start again the imports whose worker died (huey had already dropped their task)."""
    jobs = importing.recover_stale_jobs()
    for job in jobs:
        if job.status == ImportJob.Status.WRITING:
            write_import(job.pk)
        else:
            validate_import(job.pk)
    return len(jobs)


def _in_background(job: ImportJob) -> bool:
    return job.total_rows > settings.IMPORT_BACKGROUND_ROWS


def start_validation(job: ImportJob) -> ImportJob:
    """Validate a small file now, in the request; hand a large one to the worker (the page shows progress)."""
    if _in_background(job):
        validate_import(job.pk)
        return job
    return importing.validate_job(job.pk)


def start_writing(job: ImportJob) -> ImportJob:
    """Write a confirmed job: inline when small, by the worker when large."""
    if _in_background(job):
        write_import(job.pk)
        return job
    return importing.write_job(job.pk)
