import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanjia.core.models import AuditRecord, User
from guanjia.core.roles import Role


def test_bootstrap_creates_three_exclusive_admins(db, monkeypatch):
    for role in ("SYSADMIN", "SECADMIN", "AUDITOR"):
        monkeypatch.setenv(f"GJ_{role}", f"Strong-{role.lower()}-pass-2026")
    call_command("bootstrap_admins", "--password-from-env", "GJ")
    for username, role in (
        ("sysadmin", Role.SYSADMIN),
        ("secadmin", Role.SECADMIN),
        ("auditor", Role.AUDITOR),
    ):
        user = User.objects.get(username=username)
        assert user.roles == {role}
        assert user.check_password(f"Strong-{role.value}-pass-2026")
    assert AuditRecord.objects.filter(action="role.grant").count() == 3
    with pytest.raises(CommandError, match="已存在"):
        call_command("bootstrap_admins", "--password-from-env", "GJ", "--sysadmin", "other")


def test_bootstrap_refuses_weak_passwords_and_one_person_for_two_roles(db, monkeypatch):
    monkeypatch.setenv("GJ_SYSADMIN", "123")
    monkeypatch.setenv("GJ_SECADMIN", "Strong-secadmin-pass-2026")
    monkeypatch.setenv("GJ_AUDITOR", "Strong-auditor-pass-2026")
    with pytest.raises(CommandError, match="密码不符合要求"):
        call_command("bootstrap_admins", "--password-from-env", "GJ")
    with pytest.raises(CommandError, match="三员分立"):
        call_command("bootstrap_admins", "--sysadmin", "wang", "--secadmin", "wang")
    assert not User.objects.exists()
