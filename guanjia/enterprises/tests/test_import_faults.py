"""An import whose worker dies: nothing is half-imported, and the job does not stay stuck."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from guanjia.core.models import AuditRecord
from guanjia.core.tests import killable
from guanjia.enterprises import importing, tasks
from guanjia.enterprises.models import Enterprise, ImportJob, StewardAssignment
from guanjia.enterprises.tests.test_import import CODE_1, CODE_2, CODE_3, good_rows, uploaded_job, xlsx_bytes
from guanjia.testing import run_concurrently

CODES = [CODE_1, CODE_2, CODE_3]


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def later(minutes: int = 11):
    """Past GUANJIA_IMPORT_STALE_MINUTES (10 by default)."""
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes))


def sweep() -> int:
    return tasks.recover_stale_imports.call_local()


def confirmed_job(cast, login) -> ImportJob:
    job = uploaded_job(login(cast.dispatcher_a), xlsx_bytes(good_rows()), "企业.xlsx", cast.zone_a)
    assert job.status == ImportJob.Status.VALID, job.errors
    return importing.confirm_import(job, by=cast.dispatcher_a)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_writing_leaves_nothing_and_the_sweeper_finishes_the_job(
    cast, login, settings, tmp_path
):
    job = confirmed_job(cast, login)
    before = Enterprise.objects.count()
    worker = killable.spawn(
        "import-write", str(job.pk), workdir=tmp_path, settings={"MEDIA_ROOT": settings.MEDIA_ROOT}
    )
    seen_inside = int(killable.wait_until_ready(worker, tmp_path))
    assert seen_inside == before + 3, "the child had inserted the rows when it was killed"
    killable.kill(worker)

    assert not Enterprise.objects.filter(uscc__in=CODES).exists(), "nothing is half-imported"
    assert Enterprise.objects.count() == before
    job.refresh_from_db()
    assert job.status == ImportJob.Status.WRITING and job.heartbeat_at is not None
    assert not AuditRecord.objects.filter(action="enterprise.import").exists()

    assert sweep() == 0, "a job with a fresh heartbeat may still have a live worker"
    with later():
        assert sweep() == 1
        assert sweep() == 0
    job.refresh_from_db()
    assert (job.status, job.written_rows, job.recoveries) == (ImportJob.Status.DONE, 3, 1)
    assert sorted(Enterprise.objects.filter(uscc__in=CODES).values_list("uscc", flat=True)) == sorted(CODES)
    assert StewardAssignment.objects.filter(enterprise__uscc__in=CODES).count() == 2
    assert AuditRecord.objects.filter(action="enterprise.import").count() == 1
    recovered = AuditRecord.objects.get(action="enterprise.import.recover")
    assert recovered.object_id == str(job.pk) and recovered.detail["phase"] == "writing"
    assert recovered.actor is None and "写入" in recovered.summary

    page = login(cast.dispatcher_a).get(reverse("enterprises:import-job", args=[job.pk])).content.decode()
    assert "自动重新开始（第 1 次）" in page and "已导入 3 家企业" in page


def test_a_job_whose_validation_was_lost_is_validated_again(cast, login):
    job = uploaded_job(login(cast.dispatcher_a), xlsx_bytes(good_rows()), "企业.xlsx", cast.zone_a)
    # As if the worker had died while validating: huey dropped the task, the job stayed 校验中.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING, processed_rows=1)
    with later():
        assert sweep() == 1
    job.refresh_from_db()
    assert (job.status, job.recoveries) == (ImportJob.Status.VALID, 1)
    assert AuditRecord.objects.get(action="enterprise.import.recover").detail["phase"] == "validating"
    page = login(cast.dispatcher_a).get(reverse("enterprises:import-job", args=[job.pk])).content.decode()
    assert "自动重新开始" in page and "确认导入" in page


def test_a_live_job_keeps_its_heartbeat_and_is_left_alone(cast, login, monkeypatch):
    monkeypatch.setattr(importing, "PROGRESS_EVERY", 1)
    job = uploaded_job(login(cast.dispatcher_a), xlsx_bytes(good_rows()), "企业.xlsx", cast.zone_a)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING)
    with later(9):
        assert sweep() == 0
    with later(30):
        # Its worker validates on: each progress step is a heartbeat.
        importing._progress_updater(job)(1)
        assert sweep() == 0
    assert not AuditRecord.objects.filter(action="enterprise.import.recover").exists()


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_restart_a_job_once(cast, login):
    job = confirmed_job(cast, login)
    with later():
        results = run_concurrently(importing.recover_stale_jobs, importing.recover_stale_jobs)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(len(r) for r in results) == [0, 1]
    assert AuditRecord.objects.filter(action="enterprise.import.recover").count() == 1
    job.refresh_from_db()
    assert job.recoveries == 1


def test_a_job_that_keeps_dying_is_given_up(cast, login):
    job = confirmed_job(cast, login)
    ImportJob.objects.filter(pk=job.pk).update(recoveries=importing.MAX_RECOVERIES)
    with later():
        assert sweep() == 0
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "多次中断" in job.errors[0]["message"] and "未写入任何数据" in job.errors[0]["message"]
    assert AuditRecord.objects.filter(action="enterprise.import.abandon").count() == 1
    assert not Enterprise.objects.filter(uscc__in=CODES).exists()
