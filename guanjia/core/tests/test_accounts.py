import pytest
from django.test import Client, override_settings
from django.urls import reverse

from guanjia.core import services
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, RoleGrant, User
from guanjia.core.roles import Role
from guanjia.testing import PASSWORD


def _attempt(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


@override_settings(LOCKOUT_THRESHOLD=5, LOCKOUT_MINUTES=15)
def test_lockout_after_five_failures_and_unlock_by_secadmin(cast, login):
    client = Client()
    for _ in range(4):
        response = _attempt(client, "steward_a", "wrong-password")
        assert "用户名或密码不正确" in response.content.decode()
    response = _attempt(client, "steward_a", "wrong-password")
    assert "已被锁定" in response.content.decode()
    # Even the right password is refused while locked.
    response = _attempt(client, "steward_a", PASSWORD)
    assert response.status_code == 200 and "已被锁定" in response.content.decode()
    assert AuditRecord.objects.filter(action="auth.lock", object_id=str(cast.steward_a.pk)).exists()

    # The lock is visible to the security admin, who unlocks it; a steward cannot.
    page = login(cast.secadmin).get(reverse("core:roles"))
    assert "steward_a" in page.content.decode() and "已锁定账号" in page.content.decode()
    assert (
        login(cast.steward_a2).post(reverse("core:user-unlock", args=[cast.steward_a.pk])).status_code == 403
    )
    login(cast.secadmin).post(reverse("core:user-unlock", args=[cast.steward_a.pk]))
    response = _attempt(client, "steward_a", PASSWORD)
    assert response.status_code == 302


def test_login_and_logout_are_audited(cast):
    client = Client()
    _attempt(client, "dispatcher_a", PASSWORD)
    client.post(reverse("logout"))
    actions = set(AuditRecord.objects.filter(actor=cast.dispatcher_a).values_list("action", flat=True))
    assert {"auth.login", "auth.logout"} <= actions


def test_admin_roles_are_exclusive(cast):
    with pytest.raises(ServiceError, match="三员分立"):
        services.grant_role(cast.steward_a, Role.AUDITOR, by=cast.secadmin)
    with pytest.raises(ServiceError, match="三员分立"):
        services.grant_role(cast.auditor, Role.STEWARD, by=cast.secadmin)
    with pytest.raises(ServiceError, match="三员分立"):
        services.grant_role(cast.sysadmin, Role.SECADMIN, by=cast.secadmin)
    grant = services.grant_role(cast.steward_a, Role.SUPERVISOR, by=cast.secadmin)
    assert grant.role == Role.SUPERVISOR
    assert AuditRecord.objects.filter(action="role.grant", object_id=str(cast.steward_a.pk)).exists()


def test_only_the_security_admin_grants_roles(cast):
    for actor in (cast.sysadmin, cast.auditor, cast.leader_city, cast.dispatcher_a):
        with pytest.raises(NotAllowed):
            services.grant_role(cast.outsider, Role.STEWARD, by=actor)
    with pytest.raises(NotAllowed):
        services.grant_role(cast.secadmin, Role.LEADER, by=cast.secadmin)


def test_only_the_system_admin_creates_accounts(cast, login):
    data = {
        "username": "new_handler",
        "full_name": "新承办人",
        "password": "Zx-long-pass-91",
        "unit": cast.market_a.pk,
    }
    for actor in (cast.secadmin, cast.auditor, cast.leader_city):
        assert login(actor).post(reverse("core:users"), data).status_code == 403
    response = login(cast.sysadmin).post(reverse("core:users"), data)
    assert response.status_code == 302
    user = User.objects.get(username="new_handler")
    assert not user.roles  # roles come from the security admin
    assert AuditRecord.objects.filter(action="user.create", object_id=str(user.pk)).exists()


def test_weak_password_is_refused_with_a_message(cast, login):
    data = {"username": "weak", "full_name": "弱", "password": "12345678"}
    response = login(cast.sysadmin).post(reverse("core:users"), data)
    assert response.status_code == 200
    assert "密码不符合要求" in response.content.decode()
    assert not User.objects.filter(username="weak").exists()


@pytest.mark.parametrize(
    ("url_name", "allowed"),
    [
        ("core:users", "sysadmin"),
        ("core:roles", "secadmin"),
        ("core:audit", "auditor"),
        ("core:audit-export", "auditor"),
    ],
)
def test_admin_pages_belong_to_their_role_only(cast, login, url_name, allowed):
    url = reverse(url_name)
    for name in (
        "sysadmin",
        "secadmin",
        "auditor",
        "leader_city",
        "dispatcher_a",
        "steward_a",
        "ent_user_a1",
        "outsider",
    ):
        expected = 200 if name == allowed else 403
        assert login(getattr(cast, name)).get(url).status_code == expected, name
    assert Client().get(url).status_code == 302  # anonymous: to the login page


def test_auditor_verifies_and_exports(cast, login):
    client = login(cast.auditor)
    page = client.get(reverse("core:audit"), {"verify": 1})
    assert "哈希链校验通过" in page.content.decode()
    export = client.get(reverse("core:audit-export"))
    assert export["Content-Type"].startswith("text/csv")
    assert AuditRecord.objects.filter(action="audit.export", actor=cast.auditor).exists()


def test_disabled_account_cannot_log_in(cast, login):
    login(cast.sysadmin).post(reverse("core:user-active", args=[cast.steward_b.pk]), {"active": "0"})
    assert not User.objects.get(pk=cast.steward_b.pk).is_active
    assert not Client().login(username="steward_b", password=PASSWORD)
    assert RoleGrant.objects.filter(user=cast.steward_b).exists()  # roles kept for a re-enable


@override_settings(LOCKOUT_THRESHOLD=3, LOCKOUT_MINUTES=15)
def test_an_expired_lock_starts_the_count_afresh(cast):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    client = Client()
    for _ in range(3):
        _attempt(client, "steward_a", "wrong-password")
    assert User.objects.get(pk=cast.steward_a.pk).is_locked()
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = _attempt(client, "steward_a", "wrong-password")
        assert "用户名或密码不正确" in response.content.decode()
        assert not User.objects.get(pk=cast.steward_a.pk).is_locked()
        assert _attempt(client, "steward_a", PASSWORD).status_code == 302


def test_only_the_security_admin_revokes_roles(cast, login):
    url = reverse("core:role-revoke", args=[cast.steward_a.pk])
    for who in ("sysadmin", "auditor", "dispatcher_a", "leader_city"):
        assert login(getattr(cast, who)).post(url, {"role": Role.STEWARD}).status_code == 403, who
    assert cast.steward_a.has_role(Role.STEWARD)
    response = login(cast.secadmin).post(url, {"role": Role.STEWARD})
    assert response.status_code == 302
    assert not RoleGrant.objects.filter(user=cast.steward_a, role=Role.STEWARD).exists()
    assert AuditRecord.objects.filter(action="role.revoke", object_id=str(cast.steward_a.pk)).exists()
    again = login(cast.secadmin).post(url, {"role": Role.STEWARD}, follow=True)
    assert "没有角色" in again.content.decode()
