"""Where accounts may work from: the three administrators only from the management networks,
staff not on the enterprise portal's host (等保 8.1.4.4 c)."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from guanjia.core.models import AuditRecord
from guanjia.testing import PASSWORD

ADMIN_NET = override_settings(ADMIN_NETWORKS=["10.8.0.0/16"])
PORTAL = override_settings(
    PORTAL_HOSTS=["qiye.example.cn"], PORTAL_ROLES=["enterprise_user"], ALLOWED_HOSTS=["*"]
)


def _login(username: str, *, ip: str = "127.0.0.1", host: str = "testserver"):
    client = Client(REMOTE_ADDR=ip, HTTP_HOST=host)
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    return client, response


@ADMIN_NET
@pytest.mark.parametrize("admin", ["sysadmin", "secadmin", "auditor"])
def test_an_admin_outside_the_management_network_is_refused_and_audited(cast, admin):
    user = getattr(cast, admin)
    client, response = _login(user.username, ip="203.0.113.9")
    assert response.status_code == 200
    assert "管理员账号只能从管理网络登录" in response.content.decode()
    assert "_auth_user_id" not in client.session
    refused = AuditRecord.objects.get(action="auth.login_refused")
    assert refused.actor_id == user.pk and refused.ip == "203.0.113.9"
    # The right password from outside is not a failed login: no lockout count.
    user.refresh_from_db()
    assert user.failed_logins == 0


@ADMIN_NET
def test_an_admin_inside_the_management_network_logs_in(cast):
    client, response = _login(cast.sysadmin.username, ip="10.8.3.4")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.sysadmin.pk)


@ADMIN_NET
def test_business_roles_are_not_bound_to_the_management_network(cast):
    _client, response = _login(cast.steward_a.username, ip="203.0.113.9")
    assert response.status_code == 302


@ADMIN_NET
def test_an_admin_session_carried_outside_is_ended(cast):
    client, _response = _login(cast.secadmin.username, ip="10.8.3.4")
    assert client.get(reverse("core:roles")).status_code == 200
    moved = client.get(reverse("core:roles"), REMOTE_ADDR="198.51.100.7")
    assert moved.status_code == 302 and moved["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


@PORTAL
def test_staff_cannot_log_in_on_the_portal_host(cast):
    client, response = _login(cast.steward_a.username, host="qiye.example.cn")
    assert response.status_code == 200
    assert "工作人员账号请从单位内网登录" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The same account on the intranet's name logs in.
    _client, inside = _login(cast.steward_a.username, host="guanjia.intranet")
    assert inside.status_code == 302


@PORTAL
def test_enterprise_users_log_in_on_the_portal_host(cast):
    _client, response = _login(cast.ent_user_a1.username, host="qiye.example.cn")
    assert response.status_code == 302


@PORTAL
def test_the_api_on_the_portal_host_refuses_a_staff_session(cast):
    client, _response = _login(cast.steward_a.username, host="guanjia.intranet")
    response = client.get("/api/enterprises/", HTTP_HOST="qiye.example.cn")
    assert response.status_code == 403
    assert "工作人员账号请从单位内网登录" in response.json()["detail"]


def test_without_settings_everyone_logs_in_anywhere(cast):
    _client, response = _login(cast.sysadmin.username, ip="203.0.113.9")
    assert response.status_code == 302
