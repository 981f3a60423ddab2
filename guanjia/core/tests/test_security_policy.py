"""The security policy page: who may change it, that every change is audited and takes effect."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanjia.core import security
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, SecurityPolicy, User
from guanjia.testing import PASSWORD

URL = "/system/security/"


def _form(**changes):
    data = {
        "lockout_threshold": 5,
        "lockout_minutes": 15,
        "idle_minutes": 30,
        "session_max_hours": 12,
        "password_min_length": 8,
        "password_complexity": "on",
        "password_history": 5,
        "password_max_age_days": 0,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_url_is_where_the_brief_says():
    assert reverse("core:security") == URL


@pytest.mark.parametrize(
    "who", ["sysadmin", "auditor", "leader_city", "dispatcher_a", "ent_user_a1", "outsider"]
)
def test_only_the_security_admin_sees_and_changes_the_policy(cast, login, who):
    client = login(getattr(cast, who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, _form(lockout_threshold=3)).status_code == 403
    assert not SecurityPolicy.objects.exists()
    assert not AuditRecord.objects.filter(action="security.policy_change").exists()
    with pytest.raises(NotAllowed):
        security.update_policy(by=getattr(cast, who), lockout_threshold=3)


def test_anonymous_is_sent_to_the_login(db):
    assert Client().get(URL).status_code == 302


def test_the_security_admin_changes_the_policy_and_it_is_audited(cast, login):
    client = login(cast.secadmin)
    page = client.get(URL).content.decode()
    assert "尚未修改" in page and 'value="5"' in page
    response = client.post(
        URL, _form(lockout_threshold=3, password_max_age_days=90, password_complexity=None)
    )
    assert response.status_code == 302
    current = security.policy()
    assert (current.lockout_threshold, current.password_max_age_days, current.password_complexity) == (
        3,
        90,
        False,
    )
    record = AuditRecord.objects.get(action="security.policy_change")
    assert record.actor_id == cast.secadmin.pk
    assert (
        record.detail["before"]["lockout_threshold"] == 5 and record.detail["after"]["lockout_threshold"] == 3
    )
    assert set(record.detail["changed"]) == {
        "lockout_threshold",
        "password_max_age_days",
        "password_complexity",
    }
    assert "最近修改" in client.get(URL).content.decode()
    # A second change records its own before and after.
    client.post(URL, _form(lockout_threshold=4, password_max_age_days=90, password_complexity=None))
    second = AuditRecord.objects.filter(action="security.policy_change").order_by("-id").first()
    assert second is not None
    assert (
        second.detail["before"]["lockout_threshold"] == 3 and second.detail["after"]["lockout_threshold"] == 4
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("lockout_threshold", 0), ("password_min_length", 6), ("idle_minutes", 0), ("password_history", 30)],
)
def test_out_of_range_values_are_refused_with_the_field_named(cast, login, field, value):
    response = login(cast.secadmin).post(URL, _form(**{field: value}))
    assert response.status_code == 200
    label = security.policy_label(field)
    assert f"{label}：" in response.content.decode()
    assert not SecurityPolicy.objects.exists()
    with pytest.raises(ServiceError):
        security.update_policy(by=cast.secadmin, **{field: value})


@override_settings(LOCKOUT_THRESHOLD=7, LOCKOUT_MINUTES=20, SESSION_COOKIE_AGE=3600)
def test_the_settings_are_the_defaults_until_the_policy_is_saved(cast):
    current = security.policy()
    assert (current.lockout_threshold, current.lockout_minutes, current.idle_minutes) == (7, 20, 60)
    security.update_policy(by=cast.secadmin, lockout_threshold=4)
    current = security.policy()
    assert (current.lockout_threshold, current.lockout_minutes, current.idle_minutes) == (4, 20, 60)


@override_settings(SECURITY_POLICY_CACHE_SECONDS=60)
def test_the_policy_is_read_once_and_a_change_is_seen_at_once(cast):
    security.forget_policy()
    security.policy()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            security.policy()
    assert len(queries) == 0
    security.update_policy(by=cast.secadmin, lockout_threshold=9)
    assert security.policy().lockout_threshold == 9
    security.forget_policy()


def test_the_lockout_follows_the_policy(cast):
    security.update_policy(by=cast.secadmin, lockout_threshold=2, lockout_minutes=60)
    client = Client()
    for _ in range(2):
        client.post(reverse("login"), {"username": "steward_a", "password": "wrong-password"})
    user = User.objects.get(pk=cast.steward_a.pk)
    assert user.is_locked()
    assert user.locked_until is not None and user.locked_until > timezone.now() + timedelta(minutes=59)


def test_the_lock_list_shows_lock_end_and_failure_count(cast, login):
    client = Client()
    for _ in range(5):
        client.post(reverse("login"), {"username": "steward_a", "password": "wrong-password"})
    page = login(cast.secadmin).get(URL).content.decode()
    row = page.split('data-testid="locked-steward_a"')[1].split("</tr>")[0]
    locked_until = timezone.localtime(User.objects.get(pk=cast.steward_a.pk).locked_until)
    assert locked_until.strftime("%Y-%m-%d %H:%M") in row and "<td>5</td>" in row
    # Unlocking from this page comes back to it.
    response = login(cast.secadmin).post(
        reverse("core:user-unlock", args=[cast.steward_a.pk]), {"back": "security"}
    )
    assert response["Location"] == URL
    assert not User.objects.get(pk=cast.steward_a.pk).is_locked()


def test_the_policy_page_is_in_the_secadmins_navigation_only(cast, login):
    assert URL in login(cast.secadmin).get(reverse("home")).content.decode()
    assert URL not in login(cast.sysadmin).get(reverse("home")).content.decode()


def _idle_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_session_idle_longer_than_the_policy_allows_is_logged_out(cast):
    security.update_policy(by=cast.secadmin, idle_minutes=10)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = _idle_client(cast.steward_a)
        assert client.get(reverse("home")).status_code == 200
        traveller.shift(timedelta(minutes=11))
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_active_session_stays(cast):
    security.update_policy(by=cast.secadmin, idle_minutes=10)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = _idle_client(cast.steward_a)
        for _ in range(6):  # an hour of work, a request every nine minutes
            assert client.get(reverse("home")).status_code == 200
            traveller.shift(timedelta(minutes=9))
        assert client.get(reverse("home")).status_code == 200


def test_a_session_in_continuous_use_ends_after_the_policys_maximum(cast):
    security.update_policy(by=cast.secadmin, idle_minutes=30, session_max_hours=2)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = _idle_client(cast.steward_a)
        for _ in range(7):  # two hours of work, a request every 20 minutes
            assert client.get(reverse("home")).status_code == 200
            traveller.shift(timedelta(minutes=20))
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"] == reverse("login")
        assert "_auth_user_id" not in client.session
        # The API says so in JSON.
        api = _idle_client(cast.steward_a)
        for _ in range(7):
            assert api.get("/api/enterprises/").status_code == 200
            traveller.shift(timedelta(minutes=20))
        response = api.get("/api/enterprises/")
    assert response.status_code == 401 and "请重新登录" in response.json()["detail"]


def test_a_maximum_of_zero_lets_a_session_in_use_run_on(cast):
    security.update_policy(by=cast.secadmin, idle_minutes=30, session_max_hours=0)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = _idle_client(cast.steward_a)
        for _ in range(60):  # twenty hours, a request every 20 minutes
            assert client.get(reverse("home")).status_code == 200
            traveller.shift(timedelta(minutes=20))


def test_the_idle_timeout_is_the_policys_not_the_settings(cast):
    # SESSION_COOKIE_AGE says 30 minutes; the policy says 60: a 45-minute pause is fine.
    security.update_policy(by=cast.secadmin, idle_minutes=60)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = _idle_client(cast.steward_a)
        assert client.get(reverse("home")).status_code == 200
        traveller.shift(timedelta(minutes=45))
        assert client.get(reverse("home")).status_code == 200


def test_a_save_over_a_change_made_since_the_page_was_read_is_refused(cast, login):
    first, second = login(cast.secadmin), login(cast.secadmin)
    read = re.search(r'name="read_version" value="([^"]*)"', second.get(URL).content.decode())
    assert read is not None
    stale = read.group(1)
    assert first.post(URL, {**_form(lockout_threshold=3), "read_version": stale}).status_code == 302
    # The second page was read before that save: its save would undo it, so it is refused.
    response = second.post(URL, {**_form(idle_minutes=10), "read_version": stale})
    assert response.status_code == 200
    assert "已被他人修改" in response.content.decode()
    current = SecurityPolicy.objects.get(pk=1)
    assert (current.lockout_threshold, current.idle_minutes) == (3, 30)
    assert AuditRecord.objects.filter(action="security.policy_change").count() == 1
    # Read again, the same change goes through.
    fresh = re.search(r'name="read_version" value="([^"]*)"', second.get(URL).content.decode())
    assert fresh is not None and fresh.group(1) != stale
    assert (
        second.post(
            URL, {**_form(idle_minutes=10, lockout_threshold=3), "read_version": fresh.group(1)}
        ).status_code
        == 302
    )
    assert SecurityPolicy.objects.get(pk=1).idle_minutes == 10
