"""Password length, complexity and history, forced change of initial and expired passwords."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanjia.core import security, services
from guanjia.core.errors import ServiceError
from guanjia.core.models import AuditRecord, PasswordHistory, User
from guanjia.core.roles import Role
from guanjia.testing import PASSWORD

NEW_PASSWORD = "Hx-new-secret-77"


def _change(client: Client, old: str, new: str, **extra):
    return client.post(
        reverse("account-password"),
        {"old_password": old, "new_password1": new, "new_password2": new, **extra},
    )


def _create_by_sysadmin(cast, login, username: str = "new_clerk", password: str = "Zx-long-pass-91") -> User:
    response = login(cast.sysadmin).post(
        reverse("core:users"),
        {"username": username, "full_name": "新办事员", "password": password, "unit": cast.market_a.pk},
    )
    assert response.status_code == 302
    return User.objects.get(username=username)


@pytest.mark.parametrize(
    ("password", "missing"),
    [
        ("abcdefgh12", "大写字母、符号"),
        ("ABCDEFGH-!", "小写字母、数字"),
        ("zhangsanfeng", "大写字母、数字、符号"),
    ],
)
def test_complexity_names_the_missing_classes(db, password, missing):
    with pytest.raises(ServiceError) as exc:
        services.check_new_password(password, username="someone")
    assert "至少三类" in str(exc.value) and f"当前缺少：{missing}" in str(exc.value)


def test_three_classes_of_four_are_enough_and_chinese_counts_as_a_symbol(db):
    services.check_new_password("Abcdefgh12", username="someone")
    services.check_new_password("abcd1234管家", username="someone")


def test_the_policy_sets_the_length_and_may_switch_complexity_off(cast):
    services.check_new_password("Ab-12345", username="someone")  # 8: the default minimum
    security.update_policy(by=cast.secadmin, password_min_length=12)
    with pytest.raises(ServiceError, match="至少需要 12 个字符"):
        services.check_new_password("Ab-12345", username="someone")
    security.update_policy(by=cast.secadmin, password_min_length=8, password_complexity=False)
    services.check_new_password("zhangsanfeng", username="someone")


def test_the_sysadmins_form_shows_the_complexity_message(cast, login):
    data = {"username": "simple", "full_name": "简单", "password": "zhangsanfeng"}
    response = login(cast.sysadmin).post(reverse("core:users"), data)
    assert "至少三类" in response.content.decode()
    assert not User.objects.filter(username="simple").exists()


def test_a_change_refuses_the_last_passwords(cast, login):
    client = login(cast.steward_a)
    assert _change(client, PASSWORD, NEW_PASSWORD).status_code == 302
    # Back to the first password: it is among the last five.
    response = _change(client, NEW_PASSWORD, PASSWORD)
    assert response.status_code == 200
    assert "不能与最近 5 次使用过的密码相同" in response.content.decode()
    # And the current one is refused too.
    assert "不能与最近 5 次" in _change(client, NEW_PASSWORD, NEW_PASSWORD).content.decode()
    user = User.objects.get(pk=cast.steward_a.pk)
    assert user.check_password(NEW_PASSWORD)


def test_the_history_length_comes_from_the_policy(cast, login):
    security.update_policy(by=cast.secadmin, password_history=2)
    client = login(cast.steward_a)
    assert _change(client, PASSWORD, "Second-pass-2026").status_code == 302
    assert _change(client, "Second-pass-2026", "Third-pass-2026").status_code == 302
    assert "不能与最近 2 次" in _change(client, "Third-pass-2026", "Second-pass-2026").content.decode()
    # PASSWORD is three passwords back now: outside a history of two.
    assert _change(client, "Third-pass-2026", PASSWORD).status_code == 302
    security.update_policy(by=cast.secadmin, password_history=0)
    assert _change(client, PASSWORD, PASSWORD).status_code == 302  # no history check at all


def test_every_password_set_is_recorded(cast, login):
    created = _create_by_sysadmin(cast, login)
    assert PasswordHistory.objects.filter(user=created).count() == 1
    client = login(cast.steward_a)
    _change(client, PASSWORD, NEW_PASSWORD)
    hashes = list(PasswordHistory.objects.filter(user=cast.steward_a).values_list("password", flat=True))
    assert len(hashes) == 2  # make_user's password and the change
    assert User.objects.get(pk=cast.steward_a.pk).password in hashes


def test_the_history_keeps_a_bounded_number_of_rows(cast):
    user = cast.steward_a
    for i in range(PasswordHistory.KEEP + 3):
        user.set_password(f"Rotating-pass-{i}")
        user.save()
    assert PasswordHistory.objects.filter(user=user).count() == PasswordHistory.KEEP


def test_an_invited_users_password_goes_into_the_history(cast):
    from guanjia.enterprises import services as enterprise_services

    _invitation, token = enterprise_services.invite_enterprise_user(
        cast.ent_a1, name="李会计", phone="13900001234", by=cast.steward_a
    )
    user = enterprise_services.accept_invitation(
        token, uscc=cast.ent_a1.uscc, username="li_kj", password="Qy-pass-2026x"
    )
    assert PasswordHistory.objects.filter(user=user).count() == 1
    assert not user.must_change_password  # the invitee chose it


def test_the_change_is_audited_and_keeps_the_session(cast, login):
    client = login(cast.steward_a)
    response = _change(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200  # still logged in
    record = AuditRecord.objects.get(action="auth.password_change")
    assert record.actor_id == cast.steward_a.pk and record.detail == {"reason": "voluntary"}


def test_a_wrong_old_password_is_refused(cast, login):
    response = _change(login(cast.steward_a), "Not-the-password-1", NEW_PASSWORD)
    assert response.status_code == 200
    assert User.objects.get(pk=cast.steward_a.pk).check_password(PASSWORD)
    assert not AuditRecord.objects.filter(action="auth.password_change").exists()


def test_an_account_made_by_the_sysadmin_must_change_its_password_first(cast, login):
    user = _create_by_sysadmin(cast, login)
    assert user.must_change_password
    client = Client()
    assert (
        client.post(reverse("login"), {"username": user.username, "password": "Zx-long-pass-91"}).status_code
        == 302
    )
    # Any page sends it to the password page, and says why.
    response = client.get(reverse("appeals:mine"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account-password") + "?next=")
    page = client.get(response["Location"])
    assert "初始密码" in page.content.decode()
    # The API answers 403 with a message instead.
    api = client.get("/api/enterprises/")
    assert api.status_code == 403 and "修改初始密码" in api.json()["detail"]
    # After the change: free to go, still logged in, back to where it was going.
    done = _change(client, "Zx-long-pass-91", NEW_PASSWORD, next=reverse("home"))
    assert done.status_code == 302 and done["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert not User.objects.get(pk=user.pk).must_change_password
    assert AuditRecord.objects.get(action="auth.password_change").detail == {"reason": "initial"}


def test_the_api_with_a_token_is_held_too(cast, login):
    from rest_framework.authtoken.models import Token

    user = _create_by_sysadmin(cast, login)
    token = Token.objects.create(user=user)
    response = Client().get("/api/enterprises/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403 and "修改初始密码" in response.json()["detail"]


def test_test_and_invited_accounts_are_not_forced(cast, login):
    assert login(cast.steward_a).get(reverse("home")).status_code == 200
    assert not User.objects.filter(must_change_password=True).exists()


def test_bootstrap_admins_must_change_their_passwords(db, monkeypatch):
    for role in ("SYSADMIN", "SECADMIN", "AUDITOR"):
        monkeypatch.setenv(f"GJ_{role}", f"Strong-{role.lower()}-pass-2026")
    call_command("bootstrap_admins", "--password-from-env", "GJ", stdout=StringIO())
    assert set(User.objects.filter(must_change_password=True).values_list("username", flat=True)) == {
        "sysadmin",
        "secadmin",
        "auditor",
    }


def test_demo_logins_stay_usable(db):
    call_command("demo_data", "--enterprises", "20", stdout=StringIO())
    assert User.objects.exists()
    assert not User.objects.filter(must_change_password=True).exists()


def test_a_password_older_than_the_maximum_age_must_be_changed(cast, login):
    security.update_policy(by=cast.secadmin, password_max_age_days=90)
    start = timezone.now()
    with time_machine.travel(start + timedelta(days=89), tick=False):
        assert login(cast.steward_a).get(reverse("home")).status_code == 200
    with time_machine.travel(start + timedelta(days=91), tick=False):
        client = login(cast.steward_a)
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("account-password"))
        assert "超过 90 天" in client.get(reverse("account-password")).content.decode()
        assert _change(client, PASSWORD, NEW_PASSWORD).status_code == 302
        assert client.get(reverse("home")).status_code == 200
    # With the maximum age off, an old password is fine.
    security.update_policy(by=cast.secadmin, password_max_age_days=0)
    with time_machine.travel(start + timedelta(days=400), tick=False):
        assert login(cast.steward_b).get(reverse("home")).status_code == 200


def test_a_sysadmin_created_account_is_held_in_every_role(cast, login):
    user = _create_by_sysadmin(cast, login, username="fresh_head")
    services.grant_role(user, Role.DEPARTMENT_HEAD, by=cast.secadmin)
    client = Client()
    client.login(username="fresh_head", password="Zx-long-pass-91")
    assert client.get(reverse("appeals:worklist")).status_code == 302
    assert client.get(reverse("account-password")).status_code == 200
