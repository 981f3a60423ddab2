from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from guanjia.core import audit
from guanjia.core.models import AuditChainHead, AuditRecord


def _write(n: int) -> list[AuditRecord]:
    return [audit.record(None, "test.event", summary=f"事件 {i}", detail={"i": i}) for i in range(n)]


def test_sealed_chain_verifies(db):
    _write(5)
    assert audit.seal_pending() == 5
    report = audit.verify()
    assert report.ok, report.problems
    assert report.checked == 5
    assert audit.seal_pending() == 0  # sealing twice changes nothing


def test_record_changed_with_raw_sql_is_named(db):
    records = _write(4)
    audit.seal_pending()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditrecord SET summary = %s WHERE id = %s", ["篡改", records[2].id])
    report = audit.verify()
    assert not report.ok
    assert f"#{records[2].id}" in report.problems[0]
    assert "篡改" in report.problems[0]


def test_record_removed_in_the_middle_is_named(db):
    records = _write(4)
    audit.seal_pending()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditrecord WHERE id = %s", [records[1].id])
    report = audit.verify()
    assert not report.ok
    assert "链序号 2" in report.problems[0] and "删除" in report.problems[0]


def test_newest_record_removed_is_detected(db):
    records = _write(3)
    audit.seal_pending()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditrecord WHERE id = %s", [records[-1].id])
    report = audit.verify()
    assert not report.ok
    assert "链尾" in report.problems[0]


def test_application_cannot_edit_or_delete(db):
    record = _write(1)[0]
    record.summary = "改"
    with pytest.raises(PermissionError):
        record.save()
    with pytest.raises(PermissionError):
        record.delete()
    with pytest.raises(PermissionError):
        AuditRecord.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditRecord.objects.filter(id=record.id).update(summary="改")


def test_unsealed_records_are_reported_after_grace(db):
    _write(1)
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        report = audit.verify()
    assert report.unsealed_late == 1 and not report.ok


def test_prune_refuses_short_retention_and_keeps_chain_verifiable(db):
    with time_machine.travel(timezone.now() - timedelta(days=400)):
        _write(3)
        audit.seal_pending()
    _write(2)
    audit.seal_pending()
    with pytest.raises(ValueError, match="180"):
        audit.prune(90)
    assert audit.prune(365) == 3
    # The two recent records remain, and the prune itself is on record.
    assert list(AuditRecord.objects.order_by("id").values_list("action", flat=True)) == [
        "test.event",
        "test.event",
        "audit.prune",
    ]
    audit.seal_pending()
    report = audit.verify()
    assert report.ok, report.problems
    assert AuditChainHead.objects.get().pruned_before_seq == 4


def test_verify_command_fails_on_tampering(db):
    records = _write(2)
    call_command("audit", "seal")
    call_command("audit", "verify")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditrecord SET action = 'x' WHERE id = %s", [records[0].id])
    with pytest.raises(CommandError):
        call_command("audit", "verify")
    with pytest.raises(CommandError, match="180"):
        call_command("audit", "prune", "--days", "30")


@pytest.mark.django_db(transaction=True)
def test_concurrent_sealers_never_fork_the_chain():
    from guanjia.testing import run_concurrently

    _write(60)

    def seal_while_writing():
        _write(5)  # requests keep writing while the sealers run
        return audit.seal_pending(batch=7)

    results = run_concurrently(seal_while_writing, seal_while_writing, seal_while_writing)
    assert not [r for r in results if isinstance(r, Exception)], results
    audit.seal_pending()
    report = audit.verify()
    assert report.ok, report.problems
    assert report.checked == AuditRecord.objects.count() == 75
