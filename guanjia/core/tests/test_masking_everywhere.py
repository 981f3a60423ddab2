"""Personal data masked by role on every surface: pages, the API, exports, the admin, the inbox,
the outbox and the audit log.

A contact's mobile and a steward's mobile are planted in the data; for each surface and each
role, the full number appears (in the raw bytes of the response or the exported file) only for
the roles that need to call people: 企业用户 (its own enterprise), 服务管家, 受理员 and 效能督查.

The registry holds no ID-number field today (法定代表人 is a name), so ID numbers are checked
through masking.id_number_for only; a field added later must be shown through it.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from guanjia.appeals import lifecycle
from guanjia.appeals.models import Channel
from guanjia.appeals.tests import conftest as appeal_fixtures
from guanjia.core import masking
from guanjia.core.models import AuditRecord, Notification, OutboxMessage, User
from guanjia.enterprises.models import Contact

CONTACT = "13812345678"  # ent_a1's primary contact (guanjia.testing.make_enterprise)
CONTACT_MASKED = "138****5678"
STEWARD = "13900000001"  # steward_a's own mobile
STEWARD_MASKED = "139****0001"

UNMASKED = ("steward_a", "dispatcher_a", "supervisor_a", "ent_user_a1")
MASKED = ("leader_a", "promoter_a", "handler_a", "head_a", "sysadmin", "secadmin", "auditor", "outsider")
# Roles that may open ent_a1's registry record at all (the others get a 403 or a 404).
REGISTRY_MASKED = ("leader_a", "promoter_a")

# The appeal tests' fixtures (the cast routed for appeals, the 用地规划 category).
land = appeal_fixtures.land
routed = appeal_fixtures.routed


@pytest.fixture
def people(routed):
    return routed


def body(response) -> bytes:
    """The raw bytes a user receives: the page, the JSON, or every part of an .xlsx file unzipped."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    if raw[:2] == b"PK":  # an .xlsx is a zip: its cells are in the XML parts, compressed
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return b"".join(archive.read(name) for name in archive.namelist())
    return raw


def sees(data: bytes, value: str) -> bool:
    return value.encode() in data


# --- the registry: page, API, exports ---------------------------------------------------------------


@pytest.mark.parametrize("who", UNMASKED + MASKED)
def test_enterprise_page_shows_phones_in_full_only_to_unmasked_roles(people, login, who):
    response = login(getattr(people, who)).get(
        reverse("enterprises:detail", args=[people.ent_a1.pk]), follow=True
    )
    data = body(response)
    assert sees(data, CONTACT) == (who in UNMASKED), who
    if who in REGISTRY_MASKED:
        assert response.status_code == 200
        assert sees(data, CONTACT_MASKED)


@pytest.mark.parametrize("who", UNMASKED + MASKED)
def test_enterprise_api_shows_phones_in_full_only_to_unmasked_roles(people, login, who):
    client = login(getattr(people, who))
    detail = body(client.get(f"/api/enterprises/{people.ent_a1.pk}/"))
    listing = body(client.get("/api/enterprises/"))
    full = who in UNMASKED
    assert sees(detail, CONTACT) == full, who
    assert sees(listing, CONTACT) == full, who
    if who in REGISTRY_MASKED:
        assert sees(detail, CONTACT_MASKED) and sees(listing, CONTACT_MASKED)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("who", UNMASKED + MASKED)
def test_enterprise_export_holds_phones_in_full_only_for_unmasked_roles(people, login, who, fmt):
    response = login(getattr(people, who)).get(reverse("enterprises:export"), {"format": fmt})
    data = body(response)
    exporter = who in ("steward_a", "dispatcher_a", "supervisor_a", *REGISTRY_MASKED)
    assert (response.status_code == 200) == exporter, who
    assert sees(data, CONTACT) == (exporter and who in UNMASKED), who
    if who in REGISTRY_MASKED:
        assert sees(data, CONTACT_MASKED)


def test_the_portal_shows_the_enterprise_its_contacts_and_its_steward_in_full(people, login):
    data = body(login(people.ent_user_a1).get(reverse("enterprises:portal")))
    assert sees(data, CONTACT) and sees(data, STEWARD)


# --- the appeal page: the enterprise's contact and the steward's mobile -------------------------------


@pytest.fixture
def appeal(people, land):
    appeal = lifecycle.submit_appeal(
        people.ent_a1,
        title="厂房用地",
        body="需要扩建",
        channel=Channel.PORTAL,
        by=people.ent_user_a1,
        category=land,
    )
    lifecycle.dispatch_appeal(appeal, by=people.dispatcher_a)
    return appeal


@pytest.mark.parametrize("who", UNMASKED + MASKED)
def test_appeal_page_shows_phones_in_full_only_to_unmasked_roles(people, appeal, login, who):
    response = login(getattr(people, who)).get(reverse("appeals:detail", args=[appeal.pk]))
    data = body(response)
    assert sees(data, CONTACT) == (who in UNMASKED), who
    assert sees(data, STEWARD) == (who in UNMASKED), who
    if who in ("leader_a", "handler_a", "head_a"):  # they see the appeal, and the numbers masked
        assert response.status_code == 200
        assert sees(data, CONTACT_MASKED) and sees(data, STEWARD_MASKED)


@pytest.mark.parametrize("who", UNMASKED + MASKED)
def test_appeal_api_never_carries_a_phone(people, appeal, login, who):
    client = login(getattr(people, who))
    for url in (f"/api/appeals/{appeal.pk}/", "/api/appeals/"):
        data = body(client.get(url))
        assert not sees(data, CONTACT) and not sees(data, STEWARD), (who, url)


# --- staff lists, user administration and the Django admin ----------------------------------------


@pytest.mark.parametrize(
    "who, url",
    [
        ("leader_a", "/stewards/"),
        ("dispatcher_a", "/stewards/"),
        ("sysadmin", "/system/users/"),
        ("sysadmin", "/system/users/?q=steward_a"),
        ("secadmin", "/system/roles/"),
        ("sysadmin", "/admin/core/user/"),
        ("sysadmin", "/admin/core/user/{steward}/change/"),
    ],
)
def test_staff_lists_and_the_admin_never_show_a_users_phone_in_full(people, login, who, url):
    response = login(getattr(people, who)).get(url.format(steward=people.steward_a.pk))
    assert response.status_code == 200, url
    data = body(response)
    assert not sees(data, STEWARD), url
    if "change" in url:  # the admin's record view shows the number, masked
        assert sees(data, STEWARD_MASKED)


# --- notifications and the outbox ----------------------------------------------------------------


def test_inbox_and_outbox_payloads_carry_no_phone(people, appeal, login):
    """Every message the dispatch and an answer caused: titles, links and payloads hold no number."""
    lifecycle.sign_appeal(appeal, by=people.handler_a)
    lifecycle.answer_appeal(appeal, answer="已协调", outcome="solved", by=people.handler_a)
    messages = list(OutboxMessage.objects.all())
    assert any(m.channel == OutboxMessage.Channel.SMS and m.recipient == CONTACT for m in messages)
    for message in messages:
        text = f"{message.subject}{message.payload}"
        assert CONTACT not in text and STEWARD not in text, message.pk
    for note in Notification.objects.all():
        assert CONTACT not in note.title + note.link
    for user in (people.ent_user_a1, people.handler_a, people.steward_a):
        data = body(login(user).get(reverse("core:inbox")))
        assert not sees(data, CONTACT) and not sees(data, STEWARD)


# --- the audit log -------------------------------------------------------------------------------


def test_audit_records_and_their_export_carry_no_full_phone(people, login):
    """Adding a contact, inviting a user and creating an account with a mobile leave it out of the
    log the auditor reads and exports, even where a caller would have written it."""
    new_contact, invitee, account = "13711112222", "13633334444", "13555556666"
    dispatcher = login(people.dispatcher_a)
    dispatcher.post(
        reverse("enterprises:contact-add", args=[people.ent_a1.pk]),
        {"name": "李会计", "position": "会计", "phone": new_contact, "email": ""},
    )
    assert Contact.objects.filter(phone=new_contact).exists()
    login(people.steward_a).post(
        reverse("enterprises:invite", args=[people.ent_a1.pk]),
        {"name": "赵六", "phone": invitee, "email": ""},
    )
    assert OutboxMessage.objects.filter(recipient=invitee).exists()
    login(people.sysadmin).post(
        reverse("core:users"),
        {
            "username": "newbie",
            "full_name": "新同事",
            "unit": people.market_a.pk,
            "password1": "Quite-long-pass-2026",
            "password2": "Quite-long-pass-2026",
            "password": "Quite-long-pass-2026",
            "phone": account,
            "email": "",
        },
    )
    assert User.objects.filter(username="newbie", phone=account).exists()
    # A caller that puts a number in the summary or the detail gets it masked all the same.
    from guanjia.core import audit

    audit.record(
        people.dispatcher_a,
        "enterprise.contact_update",
        summary=f"电话改为 {CONTACT}",
        detail={"phone": [CONTACT]},
    )
    records = list(AuditRecord.objects.all())
    assert {"enterprise.contact_add", "enterprise.invite", "user.create"} <= {r.action for r in records}
    for number in (new_contact, invitee, account, CONTACT):
        for rec in records:
            assert number not in f"{rec.summary}{rec.detail}", (number, rec.action)
    last = AuditRecord.objects.get(action="enterprise.contact_update")
    assert CONTACT_MASKED in last.summary and last.detail == {"phone": [CONTACT_MASKED]}
    auditor = login(people.auditor)
    for url in (reverse("core:audit"), reverse("core:audit-export")):
        data = body(auditor.get(url))
        for number in (new_contact, invitee, account, CONTACT):
            assert not sees(data, number), (url, number)


def test_audit_keeps_identifiers_that_merely_contain_digits(db):
    """A USCC or a longer number is not mistaken for a mobile."""
    from guanjia.core import audit

    rec = audit.record(None, "test.digits", summary="914403001922038216 / 013812345678 / 13812345678")
    assert rec.summary == "914403001922038216 / 013812345678 / 138****5678"


# --- the one place that decides ------------------------------------------------------------------


@pytest.mark.parametrize("who", UNMASKED + MASKED)
def test_id_numbers_follow_the_same_roles(people, who):
    value = "110101199003071234"
    shown = masking.id_number_for(getattr(people, who), value)
    assert (shown == value) == (who in UNMASKED)
    if who in MASKED:
        assert shown == "110*************34"


def test_the_default_sms_backend_logs_the_number_masked(caplog):
    from guanjia.core.outbox import LogSmsBackend

    with caplog.at_level("INFO", logger="guanjia.core.outbox"):
        LogSmsBackend().send("13812345678", "您的诉求已有答复 /appeals/1/", 7)
    assert "138****5678" in caplog.text and "13812345678" not in caplog.text
