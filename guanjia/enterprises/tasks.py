"""Background work of the enterprise registry. A task is a poke; the ImportJob row is the record."""

from __future__ import annotations

from django.conf import settings
from huey.contrib.djhuey import db_task

from guanjia.enterprises import importing
from guanjia.enterprises.models import ImportJob


@db_task()
def validate_import(job_id: int) -> None:
    importing.validate_job(job_id)


@db_task()
def write_import(job_id: int) -> None:
    importing.write_job(job_id)


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
