"""The TOTP second factor: the algorithm, enrolment, the login's second step, replay, lockout and reset."""

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse

from guanjia.core import security, totp
from guanjia.core.errors import NotAllowed
from guanjia.core.models import AuditRecord, TotpDevice, User
from guanjia.testing import PASSWORD

# RFC 6238, appendix B: the SHA-1 seed "12345678901234567890", codes cut to 6 digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
NOON = datetime(2026, 3, 2, 4, 0, 10, tzinfo=UTC)  # 10 s into a 30-second step


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (59, "287082"),
        (1111111109, "081804"),
        (1111111111, "050471"),
        (1234567890, "005924"),
        (2000000000, "279037"),
        (20000000000, "353130"),
    ],
)
def test_codes_match_the_rfc_6238_vectors(at, code):
    assert totp.code_at(RFC_SECRET, at) == code


def test_the_window_is_one_step_either_side():
    now = 1234567890
    for shift, accepted in ((-60, False), (-30, True), (0, True), (30, True), (60, False)):
        code = totp.code_at(RFC_SECRET, now + shift)
        assert (totp.matching_counter(RFC_SECRET, code, at=now) is not None) is accepted, shift
    assert totp.matching_counter(RFC_SECRET, "12345", at=now) is None
    assert totp.matching_counter(RFC_SECRET, "abcdef", at=now) is None


def test_a_step_at_or_before_the_last_used_one_is_refused():
    now = 1234567890
    counter = totp.counter_at(now)
    code = totp.code_at(RFC_SECRET, now)
    assert totp.matching_counter(RFC_SECRET, code, at=now, after=counter - 1) == counter
    assert totp.matching_counter(RFC_SECRET, code, at=now, after=counter) is None


def test_secrets_are_sealed_and_tampering_is_detected():
    secret = totp.new_secret()
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
    sealed = totp.seal_secret(secret)
    assert secret not in sealed and totp.open_secret(sealed) == secret
    assert totp.seal_secret(secret) != sealed  # a fresh nonce every time
    body = bytearray(base64.urlsafe_b64decode(sealed.split("$", 1)[1]))
    body[20] ^= 1
    with pytest.raises(totp.SecretUnreadable):
        totp.open_secret("v1$" + base64.urlsafe_b64encode(bytes(body)).decode())
    with override_settings(SECRET_KEY="another-key-" * 4), pytest.raises(totp.SecretUnreadable):
        totp.open_secret(sealed)
    with override_settings(SECRET_KEY="another-key-" * 4, SECRET_KEY_FALLBACKS=[_settings_key()]):
        assert totp.open_secret(sealed) == secret  # a rotated key kept as a fallback still opens it


def _settings_key() -> str:
    from django.conf import settings

    return settings.SECRET_KEY


def _shown_secret(page: str) -> str:
    found = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page)
    assert found is not None, page
    return found.group(1).replace(" ", "")


def _enrol(client: Client, user: User) -> str:
    """Bind an authenticator through the page; returns the secret."""
    page = client.get(reverse("account-totp")).content.decode()
    assert "<svg" in page
    shown = _shown_secret(page)
    secret = totp.open_secret(TotpDevice.objects.get(user=user).secret)
    assert shown == secret
    response = client.post(reverse("account-totp"), {"code": totp.code_at(secret)})
    assert response.status_code == 302
    return secret


def _password_step(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


@time_machine.travel(NOON, tick=False)
def test_enrolment_needs_a_right_code_and_is_audited(cast, login):
    client = login(cast.steward_a)
    client.get(reverse("account-totp"))
    device = TotpDevice.objects.get(user=cast.steward_a)
    assert device.confirmed_at is None
    secret = totp.open_secret(device.secret)
    wrong = client.post(reverse("account-totp"), {"code": totp.code_at(secret, NOON.timestamp() + 120)})
    assert wrong.status_code == 200 and "验证码不正确" in wrong.content.decode()
    assert not security.has_totp(cast.steward_a)
    # Reloading keeps the same secret until it is confirmed.
    client.get(reverse("account-totp"))
    assert totp.open_secret(TotpDevice.objects.get(user=cast.steward_a).secret) == secret
    assert client.post(reverse("account-totp"), {"code": totp.code_at(secret)}).status_code == 302
    assert security.has_totp(cast.steward_a)
    assert AuditRecord.objects.filter(action="auth.totp_enable", actor=cast.steward_a).exists()
    assert "两步验证已启用" in client.get(reverse("account-totp")).content.decode()


def test_the_secret_is_not_stored_in_clear(cast, login):
    page = login(cast.steward_a).get(reverse("account-totp")).content.decode()
    shown = _shown_secret(page)
    stored = TotpDevice.objects.get(user=cast.steward_a).secret
    assert shown not in stored and stored.startswith("v1$")


def test_enterprise_users_have_no_totp_page(cast, login):
    assert login(cast.ent_user_a1).get(reverse("account-totp")).status_code == 403
    assert reverse("account-totp") not in login(cast.ent_user_a1).get(reverse("home")).content.decode()


def test_login_asks_for_the_code_and_logs_in_only_when_it_is_right(cast, login):
    with time_machine.travel(NOON, tick=False) as traveller:
        secret = _enrol(login(cast.steward_a), cast.steward_a)
        traveller.shift(timedelta(seconds=30))
        client = Client()
        response = _password_step(client, "steward_a")
        assert response.status_code == 302 and response["Location"] == reverse("login-totp")
        # Not logged in yet.
        assert client.get(reverse("home")).status_code == 302
        assert "_auth_user_id" not in client.session
        wrong = client.post(reverse("login-totp"), {"code": totp.code_at(secret, NOON.timestamp() + 600)})
        assert "验证码不正确" in wrong.content.decode()
        assert AuditRecord.objects.filter(
            action="auth.totp_failed", object_id=str(cast.steward_a.pk)
        ).exists()
        assert User.objects.get(pk=cast.steward_a.pk).failed_logins == 1
        ok = client.post(reverse("login-totp"), {"code": totp.code_at(secret)})
        assert ok.status_code == 302 and ok["Location"] == reverse("home")
        assert client.get(reverse("home")).status_code == 200
        assert User.objects.get(pk=cast.steward_a.pk).failed_logins == 0
        assert AuditRecord.objects.filter(action="auth.login", actor=cast.steward_a).exists()


def test_the_next_page_survives_the_second_step(cast, login):
    with time_machine.travel(NOON, tick=False) as traveller:
        secret = _enrol(login(cast.steward_a), cast.steward_a)
        traveller.shift(timedelta(seconds=30))
        client = Client()
        client.post(
            reverse("login"), {"username": "steward_a", "password": PASSWORD, "next": "/system/inbox/"}
        )
        assert (
            client.post(reverse("login-totp"), {"code": totp.code_at(secret)})["Location"] == "/system/inbox/"
        )


def test_a_used_code_cannot_be_used_again(cast, login):
    with time_machine.travel(NOON, tick=False) as traveller:
        secret = _enrol(login(cast.steward_a), cast.steward_a)
        # The enrolment's code, in the same step: refused.
        client = Client()
        _password_step(client, "steward_a")
        replay = client.post(reverse("login-totp"), {"code": totp.code_at(secret)})
        assert "验证码不正确" in replay.content.decode()
        traveller.shift(timedelta(seconds=30))
        code = totp.code_at(secret)
        assert client.post(reverse("login-totp"), {"code": code}).status_code == 302
        # Someone who saw that code over the shoulder, with the password, in the same step: refused.
        other = Client()
        _password_step(other, "steward_a")
        assert "验证码不正确" in other.post(reverse("login-totp"), {"code": code}).content.decode()
        assert other.get(reverse("home")).status_code == 302


def test_wrong_codes_lock_the_account(cast, login):
    security.update_policy(by=cast.secadmin, lockout_threshold=3)
    with time_machine.travel(NOON, tick=False):
        secret = _enrol(login(cast.steward_a), cast.steward_a)
        client = Client()
        _password_step(client, "steward_a")
        for _ in range(2):
            client.post(
                reverse("login-totp"), {"code": "000000" if totp.code_at(secret) != "000000" else "111111"}
            )
        locked = client.post(
            reverse("login-totp"), {"code": "999999" if totp.code_at(secret) != "999999" else "111111"}
        )
        assert locked.status_code == 302 and locked["Location"] == reverse("login")
        assert User.objects.get(pk=cast.steward_a.pk).is_locked()
        assert AuditRecord.objects.filter(action="auth.lock", object_id=str(cast.steward_a.pk)).exists()
        assert AuditRecord.objects.filter(action="auth.totp_failed").count() == 3
        # The half-done login is gone, and the right password is refused while locked.
        assert client.get(reverse("login-totp"))["Location"] == reverse("login")
        assert "已被锁定" in _password_step(Client(), "steward_a").content.decode()


def test_a_correct_password_does_not_reset_the_count_before_the_code(cast, login):
    security.update_policy(by=cast.secadmin, lockout_threshold=3)
    with time_machine.travel(NOON, tick=False):
        _enrol(login(cast.steward_a), cast.steward_a)
        for _ in range(3):
            client = Client()
            _password_step(client, "steward_a")
            client.post(reverse("login-totp"), {"code": "000000"})
        assert User.objects.get(pk=cast.steward_a.pk).is_locked()


def test_the_half_done_login_expires(cast, login):
    with time_machine.travel(NOON, tick=False) as traveller:
        secret = _enrol(login(cast.steward_a), cast.steward_a)
        client = Client()
        _password_step(client, "steward_a")
        traveller.shift(timedelta(seconds=security.PENDING_SECONDS + 30))
        response = client.post(reverse("login-totp"), {"code": totp.code_at(secret)})
        assert response.status_code == 302 and response["Location"] == reverse("login")
        assert client.get(reverse("home")).status_code == 302


def test_users_without_totp_log_in_with_the_password_alone(cast):
    client = Client()
    assert _password_step(client, "steward_a")["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_disabling_needs_a_current_code_and_is_audited(cast, login):
    with time_machine.travel(NOON, tick=False) as traveller:
        client = login(cast.steward_a)
        secret = _enrol(client, cast.steward_a)
        traveller.shift(timedelta(seconds=30))
        wrong = client.post(reverse("account-totp"), {"code": totp.code_at(secret, NOON.timestamp() + 600)})
        assert "两步验证未停用" in wrong.content.decode() and security.has_totp(cast.steward_a)
        assert client.post(reverse("account-totp"), {"code": totp.code_at(secret)}).status_code == 302
        assert not TotpDevice.objects.filter(user=cast.steward_a).exists()
        assert AuditRecord.objects.filter(action="auth.totp_disable", actor=cast.steward_a).exists()


def test_the_security_admin_resets_a_users_totp(cast, login):
    with time_machine.travel(NOON, tick=False):
        _enrol(login(cast.steward_a), cast.steward_a)
    url = reverse("core:totp-reset", args=[cast.steward_a.pk])
    for who in ("sysadmin", "auditor", "steward_a2", "leader_city"):
        assert login(getattr(cast, who)).post(url).status_code == 403, who
    assert security.has_totp(cast.steward_a)
    page = login(cast.secadmin).get(reverse("core:security")).content.decode()
    assert "steward_a" in page and url in page
    assert login(cast.secadmin).post(url).status_code == 302
    assert not TotpDevice.objects.filter(user=cast.steward_a).exists()
    record = AuditRecord.objects.get(action="auth.totp_reset")
    assert record.actor_id == cast.secadmin.pk and record.object_id == str(cast.steward_a.pk)
    # The user logs in with the password alone again.
    assert _password_step(Client(), "steward_a")["Location"] == reverse("home")


def test_the_security_admin_cannot_reset_its_own(cast):
    with pytest.raises(NotAllowed):
        security.reset_totp(cast.secadmin, by=cast.secadmin)


def test_the_policy_sends_admins_without_totp_to_enrolment(cast, login):
    security.update_policy(by=cast.secadmin, totp_required_for_admins=True)
    with time_machine.travel(NOON, tick=False):
        client = login(cast.sysadmin)
        response = client.get(reverse("core:users"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("account-totp"))
        assert "安全策略要求" in client.get(reverse("account-totp")).content.decode()
        api = client.get("/api/department-webhooks/")
        assert api.status_code == 403 and "两步验证" in api.json()["detail"]
        # Staff are not held by the admins' rule.
        assert login(cast.steward_a).get(reverse("home")).status_code == 200
        _enrol(client, cast.sysadmin)
        assert client.get(reverse("core:users")).status_code == 200


def test_the_policy_may_require_totp_of_staff_too(cast, login):
    security.update_policy(by=cast.secadmin, totp_required_for_staff=True)
    response = login(cast.steward_a).get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account-totp"))
    assert login(cast.ent_user_a1).get(reverse("home")).status_code == 200  # enterprises are not staff


def test_a_forced_password_change_comes_before_the_enrolment(cast, login):
    security.update_policy(by=cast.secadmin, totp_required_for_admins=True)
    User.objects.filter(pk=cast.auditor.pk).update(must_change_password=True)
    client = login(cast.auditor)
    assert client.get(reverse("core:audit"))["Location"].startswith(reverse("account-password"))
    assert client.get(reverse("account-totp"))["Location"].startswith(reverse("account-password"))
